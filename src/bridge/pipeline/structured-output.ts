// Structured output, emulated: Kiro cannot constrain its decoding, so a request that wants JSON
// (a schema, or any JSON object) gets the format in its system prompt
// (kiro/request/response-format), and its answer is checked here before any of it reaches the
// client:
// - Kiro's whole answer is collected (a client that streams still gets nothing unvalidated; pings
//   keep it waiting), the JSON is found in it (./json-extract: the whole text, a fenced block, or
//   the outermost object/array in prose) and validated against the schema (./json-schema-validator).
// - An answer that does not match is sent back to Kiro once, as the assistant's turn followed by a
//   user turn with the validation errors. If the second answer fails too, the request fails with
//   an `invalid_output` error in the client API's shape.
// - The client gets only the validated JSON as the answer's text, after the thinking of the
//   attempt that produced it. Thinking is held back with the answer rather than streamed live: a
//   stream that has started can no longer turn a failed validation into a real HTTP error, and the
//   thinking of a discarded attempt reasons about an answer the client never sees.
// - A turn that calls tools ends as usual (nothing to validate yet; the final answer will be);
//   text beside the calls is dropped, since clients parse every text block as the JSON. An answer
//   cut at Kiro's output limit is neither validated nor retried: it goes out as the APIs send a
//   truncated structured answer, the JSON part as far as it got, with stop reason max_tokens.
// - Usage and credits add up over both attempts: what the client does not see is reported in a
//   usage event's `unseen` tokens. The traffic record notes the retry and why it was needed.
import { InvalidRequestError } from '../anthropic/anthropic-input';
import { KiroError } from '../../kiro/errors';
import { MESSAGE_OVERHEAD } from '../../kiro/tokens';
import type { ChatRequest, OutputEvent, ResponseFormat, TokenUsage } from '../../kiro/types';
import type { RequestTrace } from '../traffic';
import { extractJson, truncatedJson, type JsonCandidate } from './json-extract';
import { SchemaCompileError, schemaValidator, type SchemaValidator } from './json-schema-validator';
import { finishOf, UsageMeter, type OutputBase } from './output';
import { readAll, type Opened } from './upstream-open';

/** The validated JSON goes out in pieces of this many characters, as a model streams its text. */
const JSON_DELTA_CHARS = 512;
/** How much of a failed answer the final error quotes. */
const QUOTED_ANSWER_CHARS = 200;

export interface StructuredIo {
  trace: RequestTrace;
  signal: AbortSignal;
  base: Pick<OutputBase, 'inputTokens' | 'countTokens' | 'contextWindow'>;
  /** Opens the upstream answer to the corrective request. */
  reopen(request: ChatRequest): Promise<Opened>;
}

type Finish = Extract<OutputEvent, { type: 'finish' }>;

/** One upstream answer, complete. */
interface Attempt {
  events: OutputEvent[];
  text: string;
  /** The reasoning as it came: thinking, Kiro's signatures, redacted blocks (what the client gets). */
  reasoning: Extract<OutputEvent, { type: 'thinking' | 'thinking_signature' | 'redacted_thinking' }>[];
  finish: Finish;
  toolCalls: boolean;
  /** This call's usage: its text and reasoning as counted, and Kiro's usage events. */
  meter: UsageMeter;
  contextUsagePercentage?: number;
  /** Kiro's own token counts of this call, when it sent them. */
  tokens?: TokenUsage;
}

type Verdict = { kind: 'valid'; json: JsonCandidate } | { kind: 'invalid'; problem: string } | { kind: 'tools' } | { kind: 'truncated'; json: string };

/**
 * Checks the schema before Kiro is called: one that is not valid JSON Schema is the client's
 * error (400, naming the field), not something to discover after paying for an answer. Returns
 * the schema's validator (none for a plain JSON object format).
 */
export async function checkResponseFormat(format: ResponseFormat): Promise<SchemaValidator | undefined> {
  if (!format.schema) return undefined;
  try {
    return await schemaValidator(format.schema);
  } catch (error) {
    if (error instanceof SchemaCompileError) throw new InvalidRequestError(`${format.param}: ${error.message}`);
    throw error;
  }
}

/**
 * The answer to a request with a response format, as the events the API's writer or builder
 * takes: validated JSON (after at most one corrective retry), a tool-call turn, or a truncated
 * answer. `validator` is checkResponseFormat's (none: any JSON object). Throws the upstream's
 * error, or an `invalid_output` KiroError when both answers fail.
 */
export async function structuredAnswer(request: ChatRequest, opened: Opened, validator: SchemaValidator | undefined, io: StructuredIo): Promise<OutputEvent[]> {
  const format = request.responseFormat;
  if (!format) throw new KiroError('internal', 'structuredAnswer called for a request without a response format');

  const first = await collect(opened, io);
  const firstVerdict = judge(first, validator);
  if (firstVerdict.kind !== 'invalid') return answerEvents(first, firstVerdict, [], 0, io);

  io.trace.addRepairs([`structured output: Kiro's answer was not usable (${firstVerdict.problem}); asked once more with the validation errors`]);
  // Spent even if the second call fails; the answer's usage replaces it when one is sent.
  if (first.meter.credits !== undefined) io.trace.update({ credits: first.meter.credits });
  const correction = correctionMessage(firstVerdict.problem, format);
  const retryRequest: ChatRequest = {
    ...request,
    messages: [
      ...request.messages,
      { role: 'assistant', content: [{ type: 'text', text: first.text.trim() === '' ? '(empty answer)' : first.text }] },
      { role: 'user', content: [{ type: 'text', text: correction }] },
    ],
  };
  const appendedInput = io.base.countTokens(first.text) + io.base.countTokens(correction) + 2 * MESSAGE_OVERHEAD;
  const second = await collect(await io.reopen(retryRequest), io);
  const secondVerdict = judge(second, validator);
  if (secondVerdict.kind !== 'invalid') return answerEvents(second, secondVerdict, [first], appendedInput, io);

  const credits = totalCredits([first, second]);
  if (credits !== undefined) io.trace.update({ credits });
  io.trace.addRepairs([`structured output: the second answer was not usable either (${secondVerdict.problem})`]);
  const quoted = second.text.trim().slice(0, QUOTED_ANSWER_CHARS);
  throw new KiroError(
    'invalid_output',
    `Kiro's answer did not match the requested ${format.schema ? 'JSON schema' : 'JSON object format'}, also after one retry with the validation errors (${secondVerdict.problem}).` +
      (quoted ? ` The answer began: ${JSON.stringify(quoted)}` : ''),
  );
}

/** The user turn that asks again, saying what was wrong. */
export function correctionMessage(problem: string, format: ResponseFormat): string {
  const what = format.schema ? 'the JSON value that matches the JSON Schema in your instructions' : 'a single valid JSON object';
  return `Your previous answer cannot be used: ${problem}. Answer again with only ${what}: no other text, no Markdown code fence.`;
}

async function collect(opened: Opened, io: StructuredIo): Promise<Attempt> {
  const events = await readAll(opened, io.trace, io.signal);
  const meter = new UsageMeter(io.base);
  let text = '';
  let thinking = '';
  const reasoning: Attempt['reasoning'] = [];
  let toolCalls = false;
  let contextUsagePercentage: number | undefined;
  let tokens: TokenUsage | undefined;
  const finish = finishOf(events, (event) => {
    switch (event.type) {
      case 'text':
        text += event.text;
        break;
      case 'thinking':
        thinking += event.text;
        reasoning.push(event);
        break;
      case 'thinking_signature':
      case 'redacted_thinking':
        reasoning.push(event);
        break;
      case 'tool_start':
        toolCalls = true;
        break;
      case 'usage':
        meter.observe(event);
        if (event.contextUsagePercentage !== undefined) contextUsagePercentage = event.contextUsagePercentage;
        if (event.tokens !== undefined) tokens = { ...tokens, ...event.tokens };
        break;
    }
  });
  // Each counted whole, as one run.
  meter.reasoning(thinking);
  meter.text(text);
  return { events, text, reasoning, finish, toolCalls, meter, contextUsagePercentage, tokens };
}

function judge(attempt: Attempt, validator: SchemaValidator | undefined): Verdict {
  if (attempt.toolCalls) return { kind: 'tools' };
  if (attempt.finish.reason === 'max_tokens') return { kind: 'truncated', json: truncatedJson(attempt.text) };
  const { candidates, parseError } = extractJson(attempt.text);
  if (candidates.length === 0) return { kind: 'invalid', problem: parseError ?? 'no JSON was found in it' };
  let firstErrors: string[] | undefined;
  for (const candidate of candidates) {
    const errors = validator ? validator.validate(candidate.value) : isJsonObject(candidate.value) ? [] : ['(root): must be a JSON object'];
    if (errors.length === 0) return { kind: 'valid', json: candidate };
    firstErrors ??= errors;
  }
  return { kind: 'invalid', problem: `the JSON does not match the ${validator ? 'schema' : 'format'}: ${firstErrors!.join('; ')}` };
}

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function totalCredits(attempts: readonly Attempt[]): number | undefined {
  let total: number | undefined;
  for (const { meter } of attempts) if (meter.credits !== undefined) total = (total ?? 0) + meter.credits;
  return total;
}

/** `text` in pieces of at most JSON_DELTA_CHARS characters, never splitting a surrogate pair. */
export function textPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length;) {
    let end = Math.min(text.length, start + JSON_DELTA_CHARS);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end--;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

/**
 * The events the client gets for an accepted attempt, with usage covering everything Kiro
 * processed: the discarded attempts, and text of this one the client does not see.
 */
function answerEvents(
  accepted: Attempt,
  verdict: Exclude<Verdict, { kind: 'invalid' }>,
  discarded: readonly Attempt[],
  appendedInput: number,
  io: StructuredIo,
): OutputEvent[] {
  const count = io.base.countTokens;
  const unseen = { inputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
  for (const { meter } of discarded) {
    unseen.inputTokens += meter.inputTokens;
    unseen.outputTokens += meter.outputTokens;
    unseen.reasoningTokens += meter.reasoningTokens;
  }
  const tokens = accepted.tokens;
  const reportedInput =
    tokens !== undefined &&
    (tokens.uncachedInputTokens !== undefined || tokens.cacheReadInputTokens !== undefined || tokens.cacheWriteInputTokens !== undefined);
  // The meter estimates the prompt as the client's; a retry's prompt also holds the appended turns.
  if (discarded.length > 0 && accepted.contextUsagePercentage === undefined && !reportedInput) unseen.inputTokens += appendedInput;
  // Kiro's count of the accepted call already holds all of its text, what the client does not see too.
  const hiddenText = (text: string) => (tokens?.outputTokens === undefined ? count(text) : 0);

  const usage: OutputEvent = { type: 'usage', unseen };
  if (tokens !== undefined) usage.tokens = tokens;
  const credits = totalCredits([...discarded, accepted]);
  if (credits !== undefined) usage.credits = credits;

  if (verdict.kind === 'tools') {
    // Clients parse every text block of a structured answer as the JSON: text beside tool calls goes.
    if (accepted.text.trim() !== '') {
      unseen.outputTokens += hiddenText(accepted.text);
      io.trace.addRepairs([
        `structured output: ${accepted.text.length} characters of text beside the tool call${discarded.length ? ' (second answer)' : ''} dropped; only the final JSON answer is text`,
      ]);
    }
    // The attempt's own usage events come first; this one adds to them and sets the credits total.
    const kept = accepted.events.filter((e) => e.type !== 'text' && e.type !== 'finish');
    return [...kept, usage, accepted.finish];
  }

  const json = verdict.kind === 'valid' ? verdict.json.text : verdict.json;
  if (verdict.kind === 'valid' && verdict.json.from !== 'whole') {
    const dropped = accepted.text.trim().length - json.length;
    io.trace.addRepairs([
      `structured output: the JSON was taken from ${verdict.json.from === 'fence' ? 'a fenced code block' : 'the prose around it'} (${dropped} characters of other text dropped)`,
    ]);
  }
  if (verdict.kind === 'truncated') {
    io.trace.addRepairs(["structured output: the answer was cut at Kiro's output limit; sent unvalidated with stop reason max_tokens"]);
  }
  unseen.outputTokens += Math.max(0, hiddenText(accepted.text) - hiddenText(json));
  if (accepted.contextUsagePercentage !== undefined) usage.contextUsagePercentage = accepted.contextUsagePercentage;
  // The reasoning as Kiro sent it: its signatures and redacted blocks go to the client too.
  const events: OutputEvent[] = [...accepted.reasoning];
  for (const piece of textPieces(json)) events.push({ type: 'text', text: piece });
  events.push(usage, accepted.finish);
  return events;
}
