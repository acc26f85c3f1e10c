// Opening the upstream answer of a chat request, through the account pool: the pool picks an
// account and fails over by error class (kiro/accounts/account-pool); each attempt converts the request
// for its account (the profile ARN differs), sends the generate call, and reads the first batch of
// events. An error as the very first event (an in-stream AccessDenied, throttling…) still counts
// as the attempt failing, so it is answerable with a real HTTP error and may go to another
// account. Once this returns, the answer may reach the client: nothing is retried after that.
import { ResponseAssembler } from '../../kiro/response/assemble';
import { generateAssistantResponse, type KiroResponseStream } from '../../kiro/http/client';
import { toKiroRequest, type ConvertResult } from '../../kiro/request/convert';
import { oversizedPayload, payloadTooLargeError, payloadTooLargeNote } from '../../kiro/request/payload-limit';
import type { KiroEvent } from '../../kiro/codec/events';
import { conversationIdFor } from '../../kiro/request/ids';
import type { ChatRequest, OutputEvent, ToolDefinition } from '../../kiro/types';
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

/** Each tool's required input properties, by name (an empty input for one of these was cut). */
function requiredInputs(tools: readonly ToolDefinition[]): Map<string, string[]> {
  const required = new Map<string, string[]>();
  for (const tool of tools) {
    const list = tool.inputSchema?.required;
    if (Array.isArray(list)) required.set(tool.name, list.filter((p): p is string => typeof p === 'string'));
  }
  return required;
}

/**
 * Opens the answer to `request`: converts it (once), refuses a body larger than Kiro takes
 * before any account is used, then makes the call through the account pool. `options.inputTokens`
 * (the bridge's count of the request) goes into that refusal's message; `recordConversion: false`
 * (a structured-output retry) leaves the record's first request and repairs as they are.
 */
export async function openUpstream(
  request: ChatRequest,
  kiroModel: string,
  trace: RequestTrace,
  context: BridgeContext,
  config: BridgeConfig,
  signal: AbortSignal,
  options: { inputTokens?: number; recordConversion?: boolean } = {},
): Promise<Opened> {
  const conversationId = conversationIdFor(request.sessionKey);
  // The converted body depends on the account only through its top-level profile ARN: the
  // conversation is converted and measured once, and each ARN gets its own serialization.
  const converted: ConvertResult = toKiroRequest(request, { kiroModel, conversationId, thinkingBudget: request.thinking?.budgetTokens });
  // A follow-up call (a structured-output retry) keeps the record's first request and repairs.
  const record = options.recordConversion !== false;
  if (record) trace.addRepairs(converted.repairs);
  const withoutArn = JSON.stringify(converted.body);
  const oversized = oversizedPayload(withoutArn);
  if (oversized) {
    trace.captureKiroRequest(converted.body);
    trace.addRepairs([payloadTooLargeNote(oversized)]);
    throw payloadTooLargeError(oversized, options.inputTokens);
  }
  const texts = new Map<string, string>();
  const textFor = (profileArn: string | undefined) => {
    const key = profileArn ?? '';
    let text = texts.get(key);
    if (text === undefined) {
      const body = profileArn ? { ...converted.body, profileArn } : converted.body;
      text = profileArn ? JSON.stringify(body) : withoutArn;
      // The record keeps the body as first sent.
      if (texts.size === 0 && record) trace.captureKiroRequest(body);
      texts.set(key, text);
    }
    return { text, toolNames: converted.toolNames };
  };

  const required = requiredInputs(request.tools);

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
      const { text, toolNames } = textFor(lease.account.profile.forStreaming);
      const assembler = new ResponseAssembler({
        toolNames,
        thinking: request.thinking !== undefined,
        stopSequences: request.stopSequences,
        requiredInput: (name) => required.get(name),
        onNote: (note) => trace.addRepairs([note]),
      });
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
