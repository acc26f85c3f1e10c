// Opening the upstream answer of a chat request, through the account pool: the pool picks an
// account and fails over by error class (kiro/accounts/account-pool); each attempt converts the request
// for its account (the profile ARN differs), sends the generate call, and reads the first batch of
// events. An error as the very first event (an in-stream AccessDenied, throttling…) still counts
// as the attempt failing, so it is answerable with a real HTTP error and may go to another
// account. Once this returns, the answer may reach the client: nothing is retried after that.
import { ResponseAssembler } from '../../kiro/response/assemble';
import { generateAssistantResponse, type KiroResponseStream } from '../../kiro/http/client';
import { toKiroRequest, type ConvertResult } from '../../kiro/request/convert';
import type { KiroEvent } from '../../kiro/codec/events';
import { conversationIdFor } from '../../kiro/request/ids';
import type { ChatRequest, OutputEvent } from '../../kiro/types';
import type { BridgeConfig } from '../config';
import type { BridgeContext } from '../context';
import type { RequestTrace } from '../traffic';

/** One upstream answer, opened: the stream and its first batch of output events. */
export interface Opened {
  upstream: KiroResponseStream;
  batches: AsyncGenerator<KiroEvent[], void, undefined>;
  assembler: ResponseAssembler;
  /** Output of the first batch (already through the assembler). */
  first: OutputEvent[];
  /** The upstream ended within the first read (short answers). */
  ended: boolean;
}

/**
 * Hands the answer's output events to `emit`, batch by batch (the first batch included), until
 * the assembler's finish or error; stops reading once the assembler is done (a stop sequence
 * matched) and throws the abort reason when the request was aborted.
 */
export async function readAnswer(
  opened: Opened,
  trace: RequestTrace,
  signal: AbortSignal,
  emit: (events: OutputEvent[]) => void | Promise<void>,
): Promise<void> {
  const { assembler } = opened;
  await emit(opened.first);
  if (!opened.ended && !assembler.done) {
    for await (const batch of opened.batches) {
      const out: OutputEvent[] = [];
      for (const event of batch) {
        trace.captureUpstreamEvent(event);
        const produced = assembler.push(event);
        for (let i = 0; i < produced.length; i++) out.push(produced[i]!);
        if (assembler.done) break;
      }
      await emit(out);
      if (signal.aborted) throw signal.reason;
      if (assembler.done) break;
    }
  }
  if (!assembler.done) await emit(assembler.end());
}

export async function openUpstream(
  request: ChatRequest,
  kiroModel: string,
  trace: RequestTrace,
  context: BridgeContext,
  config: BridgeConfig,
  signal: AbortSignal,
): Promise<Opened> {
  const conversationId = conversationIdFor(request.sessionKey);
  // The converted body depends on the account only through its profile ARN: convert once per ARN.
  const converted = new Map<string, ConvertResult & { text: string }>();
  const convertFor = (profileArn: string | undefined) => {
    const key = profileArn ?? '';
    let result = converted.get(key);
    if (!result) {
      const body = toKiroRequest(request, { kiroModel, profileArn, conversationId, thinkingBudget: request.thinking?.budgetTokens });
      result = { ...body, text: JSON.stringify(body.body) };
      if (converted.size === 0) {
        trace.addRepairs(body.repairs);
        trace.captureKiroRequest(body.body);
      }
      converted.set(key, result);
    }
    return result;
  };

  let firstAccount: string | undefined;
  return context.accounts.execute(
    {
      model: kiroModel,
      signal,
      onAccount: (entry) => {
        firstAccount ??= entry.id;
        trace.update({ account: entry.label, flags: entry.id !== firstAccount ? { failedOver: true } : {} });
      },
      onAttempt: (report) => {
        trace.addAttempt({ account: report.account, status: report.status, errorClass: report.errorClass, durationMs: report.durationMs });
        if (report.errorClass) context.logger.info(`${trace.id}: attempt on ${report.account} failed (${report.errorClass}${report.status ? `, HTTP ${report.status}` : ''})`);
      },
    },
    async (lease) => {
      const { text, toolNames } = convertFor(lease.account.profile.forStreaming);
      const assembler = new ResponseAssembler({ toolNames, thinking: request.thinking !== undefined, stopSequences: request.stopSequences });
      let upstream: KiroResponseStream | undefined;
      try {
        upstream = await generateAssistantResponse(lease.account, lease.token, text, {
          signal,
          idleTimeoutMs: config.requestTimeoutSeconds * 1000,
          attempt: lease.attempt,
        });
        const batches = upstream.batches();
        const firstRead = await batches.next();
        const first: OutputEvent[] = [];
        if (!firstRead.done) {
          for (const event of firstRead.value) {
            trace.captureUpstreamEvent(event);
            for (const out of assembler.push(event)) first.push(out);
          }
        } else {
          for (const out of assembler.end()) first.push(out);
        }
        const head = first.find((e) => e.type !== 'usage');
        if (head?.type === 'error') throw head.error;
        return { upstream, batches, assembler, first, ended: firstRead.done === true };
      } catch (error) {
        upstream?.cancel();
        throw error;
      }
    },
  );
}
