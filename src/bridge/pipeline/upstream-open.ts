// Opening the upstream answer of a chat request, through the account pool: the pool picks an
// account and fails over by error class (kiro/accounts/account-pool); each attempt converts the request
// for its account (the profile ARN differs), sends the generate call, and reads the first batch of
// events. An error as the very first event (an in-stream AccessDenied, throttling…) still counts
// as the attempt failing, so it is answerable with a real HTTP error and may go to another
// account. Once this returns, the answer may reach the client: nothing is retried after that.
//
// Kiro signs its reasoning for the account (and conversation) it answered; replayed elsewhere, the
// signature is refused with THINKING_SIGNATURE_INVALID. Kiro's own client then sends the reasoning
// without it, once; so does this: the same account gets the request again with the signed
// reasoning as plain `<thinking>` text, and the traffic record says so.
import { KiroError } from '../../kiro/errors';
import { ResponseAssembler } from '../../kiro/response/assemble';
import { generateAssistantResponse, type KiroResponseStream } from '../../kiro/http/client';
import { toKiroRequest, type ConvertResult } from '../../kiro/request/convert';
import { oversizedPayload, payloadTooLargeError, payloadTooLargeNote } from '../../kiro/request/payload-limit';
import type { KiroEvent } from '../../kiro/codec/events';
import { conversationIds } from '../../kiro/request/ids';
import { accountBody, accountBodyText } from '../../kiro/request/body-text';
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
        assembler.push(event, out);
        if (assembler.done) break;
      }
      await emit(out);
      if (signal.aborted) throw signal.reason;
      if (assembler.done) break;
    }
  }
  if (!assembler.done) await emit(assembler.end());
}

/** The answer's output events, all of them (see readAnswer), for an answer that is sent whole. */
export async function readAll(opened: Opened, trace: RequestTrace, signal: AbortSignal): Promise<OutputEvent[]> {
  const events: OutputEvent[] = [];
  await readAnswer(opened, trace, signal, (batch) => {
    for (let i = 0; i < batch.length; i++) events.push(batch[i]!);
  });
  return events;
}

/** Each tool's required input properties, by name (an empty input for one of these was cut). */
function requiredInputs(tools: readonly ToolDefinition[]): Map<string, string[]> {
  const required = new Map<string, string[]>();
  for (const tool of tools) {
    const list = tool.inputSchema?.required;
    if (Array.isArray(list))
      required.set(
        tool.name,
        list.filter((p): p is string => typeof p === 'string'),
      );
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
  // The converted body depends on the account only through its top-level profile ARN and the
  // conversation id (scoped to the account, ./ids): the conversation is converted and measured
  // once, and each account gets its own serialization. (The id's length never changes, so the
  // measure holds for every account.)
  const conversationIdFor = conversationIds(request);
  const convert = (signedReasoning: boolean): ConvertResult =>
    toKiroRequest(request, { kiroModel, conversationId: conversationIdFor(), thinkingBudget: request.thinking?.budgetTokens, signedReasoning });
  const converted = convert(true);
  // A follow-up call (a structured-output retry) keeps the record's first request and repairs.
  const record = options.recordConversion !== false;
  if (record) trace.addRepairs(converted.repairs);
  const measured = JSON.stringify(converted.body);
  const oversized = oversizedPayload(measured);
  if (oversized) {
    trace.captureKiroRequest(converted.body);
    trace.addRepairs([payloadTooLargeNote(oversized)]);
    throw payloadTooLargeError(oversized, options.inputTokens);
  }
  const signed = converted.body.conversationState.history.some(
    (h) => 'assistantResponseMessage' in h && h.assistantResponseMessage.reasoningContent !== undefined,
  );
  // Only when Kiro refused a signature: the same conversation with that reasoning as text.
  let unsigned: ConvertResult | undefined;
  const texts = new Map<string, string>();
  const textFor = (accountId: string, profileArn: string | undefined, signedReasoning: boolean) => {
    const key = `${accountId}\0${profileArn ?? ''}\0${signedReasoning}`;
    let text = texts.get(key);
    if (text === undefined) {
      let source = converted;
      if (!signedReasoning) {
        if (!unsigned) {
          unsigned = convert(false);
          // What changed for the resend, and the body as resent.
          trace.addRepairs(unsigned.repairs.filter((r) => r.rule === 'reasoning-as-text'));
        }
        source = unsigned;
      }
      const conversationId = conversationIdFor(accountId);
      // The measured text with this account's id and profile, not a second serialization; the
      // body resent without signatures was never measured.
      const resent = signedReasoning ? undefined : accountBody(source.body, conversationId, profileArn);
      text = resent ? JSON.stringify(resent) : accountBodyText(measured, source.body, conversationId, profileArn);
      // The record keeps the body as first sent (and as resent without signatures).
      if (((texts.size === 0 && record) || !signedReasoning) && trace.capture !== 'off')
        trace.captureKiroRequest(resent ?? accountBody(source.body, conversationId, profileArn));
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
        if (report.errorClass)
          context.logger.info(`${trace.id}: attempt on ${report.account} failed (${report.errorClass}${report.status ? `, HTTP ${report.status}` : ''})`);
      },
    },
    async (lease) => {
      // The first attempt and a resend without signatures carry the same profile.
      const profileArn = lease.account.profile.forStreaming;
      const { text, toolNames } = textFor(lease.entry.id, profileArn, true);
      const assembler = new ResponseAssembler({
        toolNames,
        thinking: request.thinking !== undefined,
        stopSequences: request.stopSequences,
        requiredInput: (name) => required.get(name),
        onNote: (note) => trace.addRepairs([note]),
      });
      const send = (body: string) =>
        generateAssistantResponse(lease.account, lease.token, body, {
          signal,
          idleTimeoutMs: config.requestTimeoutSeconds * 1000,
          attempt: lease.attempt,
        });
      let upstream: KiroResponseStream | undefined;
      try {
        try {
          upstream = await send(text);
        } catch (error) {
          if (!(signed && isSignatureRefused(error))) throw error;
          context.logger.info(`${trace.id}: Kiro refused a reasoning signature; sending the reasoning as text`);
          upstream = await send(textFor(lease.entry.id, profileArn, false).text);
        }
        const batches = upstream.batches();
        const firstRead = await batches.next();
        const first: OutputEvent[] = [];
        if (!firstRead.done) {
          for (const event of firstRead.value) {
            trace.captureUpstreamEvent(event);
            assembler.push(event, first);
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

/** Kiro's 400 for a replayed reasoning signature it did not issue, or whose text changed. */
function isSignatureRefused(error: unknown): boolean {
  return error instanceof KiroError && error.errorClass === 'bad_request' && error.reason === 'THINKING_SIGNATURE_INVALID';
}
