// POST /v1/messages for requests that carry Anthropic's server web search tool (Claude Code's
// WebSearch, SDK users' `web_search_20250305`). Kiro has no server tools and rejects this one as a
// plain tool, so the bridge runs the search itself through Kiro's MCP `web_search` and answers in
// Anthropic's shapes: `server_tool_use` + `web_search_tool_result` blocks, then the answer, with
// `usage.server_tool_use.web_search_requests`. Two paths:
//
// - Pure search (Claude Code's side call: only the web search tool, and the user message
//   "Perform a web search for the query: …"): search, then answer with the results as text (every
//   snippet, so the model that asked gets the content). No generate call: the calling model does
//   the reasoning, and a second model pass would spend credits and time to restate the results.
// - Model-driven (any other request with the tool): Kiro is offered a plain `web_search` function
//   (under a name no client tool uses). When it calls it, the call is not shown to the client; the
//   bridge runs the search, writes the server blocks, and calls Kiro again with the results as the
//   tool's result, continuing the same message. Up to MAX_MODEL_CALLS calls; the last one is made
//   without the search tool so the model answers. If Kiro calls client tools in the same turn, the
//   message ends with `tool_use` after the search blocks (the client runs its tools; the searches
//   travel back in the history and are given to Kiro as that function's calls and results).
// Limits: results come from Kiro's search (no `user_location`); `allowed_domains` /
// `blocked_domains` filter Kiro's results after the fact; `encrypted_content` is a plain stand-in
// (see web-search-blocks); text is not annotated with citations.
import { KiroError } from '../../kiro/errors';
import type { ChatMessage, ChatRequest, ContentBlock, OutputEvent, ToolChoice } from '../../kiro/types';
import { callWebSearch, filterHits, MAX_QUERY_LENGTH } from '../../kiro/http/web-search';
import { InvalidRequestError, parseAnthropicRequest } from '../anthropic/anthropic-input';
import { anthropicErrorFor, newMessageId, type AnthropicOutputMeta } from '../anthropic/anthropic-output';
import { failBeforeCommit, failureToAnswer, finishIfClientGone, outputBase, resolveRequestModel } from '../pipeline/chat-pipeline';
import type { BridgeContext, RouteCall } from '../context';
import { sendJson } from '../http/http';
import { anthropicApi } from '../anthropic/messages';
import { SSE_HEADERS } from '../http/sse';
import { StreamCommitter, waitForDrain } from '../http/stream-response';
import type { RequestTrace } from '../traffic';
import { openUpstream, readAnswer, type Opened } from '../pipeline/upstream-open';
import {
  failureForModel,
  failureSummary,
  newServerToolUseId,
  resultItems,
  resultsForModel,
  searchResultBlock,
  serverToolUseBlock,
  summaryText,
  type WebSearchErrorCode,
  type WebSearchToolResultBlock,
} from './web-search-blocks';
import { WebSearchMessageBuilder, WebSearchStreamWriter, type WebSearchOutput, type WebSearchStopReason } from './web-search-output';
import { pureSearchQuery, rewriteWebSearchRequest, webSearchToolOf, type WebSearchToolConfig } from './web-search-request';

/** Kiro calls one model-driven request may make (searches in between); the last has no search tool. */
export const MAX_MODEL_CALLS = 5;

interface Prepared {
  request: ChatRequest;
  kiroModel: string;
  inputTokens: number;
  notes: string[];
  tool: WebSearchToolConfig;
  functionName: string;
  pureQuery?: string;
}

function prepare(body: unknown, context: BridgeContext): Prepared {
  const tool = webSearchToolOf(body);
  if (!tool) throw new InvalidRequestError('tools: no web search tool in this request');
  const pureQuery = pureSearchQuery(body);
  const { body: rewritten, functionName } = rewriteWebSearchRequest(body as Record<string, unknown>, tool);
  const config = context.config();
  const { request, notes } = parseAnthropicRequest(rewritten, { defaultThinkingBudget: config.thinkingDefaultBudget });
  if (request.responseFormat) {
    // Structured output is validated by the chat pipeline, which a search-driven answer bypasses.
    throw new InvalidRequestError(
      `${request.responseFormat.param.replace(/\.schema$/, '')}: structured output cannot be combined with the web search tool; search first, then ask for the JSON in a request without the tool`,
    );
  }
  // The same names /v1/messages takes, ids an account reported included.
  const kiroModel = resolveRequestModel(request, config, { available: context.accounts.availableModels(), unknownModel: anthropicApi.unknownModel });
  return { request, kiroModel, inputTokens: context.counter.countRequest(request), notes, tool, functionName, ...(pureQuery ? { pureQuery } : {}) };
}

interface CallContext {
  kiroModel: string;
  trace: RequestTrace;
  context: BridgeContext;
  signal: AbortSignal;
}

// ---- one search ---------------------------------------------------------------------------------

/** Search failures answered in-band (the model carries on); account-level failures end the request. */
function inBandCode(error: unknown): WebSearchErrorCode | undefined {
  if (!(error instanceof KiroError)) return undefined;
  switch (error.errorClass) {
    case 'throttled':
      return 'too_many_requests';
    case 'upstream_unavailable':
    case 'timeout':
    case 'stream_broken':
    case 'bad_request':
    case 'prompt_too_long':
    case 'model_unavailable':
      return 'unavailable';
    default:
      return undefined;
  }
}

interface SearchOutcome {
  block: WebSearchToolResultBlock;
  /** The tool result Kiro reads. */
  forModel: string;
  /** The answer text of a pure search. */
  summary: string;
  /** Whether Kiro's search was called. */
  ran: boolean;
}

async function runSearch(id: string, query: string, tool: WebSearchToolConfig, ctx: CallContext): Promise<SearchOutcome> {
  const failed = (code: WebSearchErrorCode, ran: boolean): SearchOutcome => ({
    block: searchResultBlock(id, code),
    forModel: failureForModel(query, code),
    summary: failureSummary(query, code),
    ran,
  });
  if (!query) return failed('invalid_tool_input', false);
  if (query.length > MAX_QUERY_LENGTH) return failed('query_too_long', false);
  const started = Date.now();
  try {
    const timeoutMs = ctx.context.config().requestTimeoutSeconds * 1000;
    // Through the pool like a generate call: a fresh token, a refresh and retry if Kiro rejects
    // it, another account if this one cannot serve.
    const answer = await ctx.context.accounts.execute({ signal: ctx.signal, onAccount: (entry) => ctx.trace.update({ account: entry.label }) }, (lease) =>
      callWebSearch(lease.account, lease.token, query, { signal: ctx.signal, timeoutMs, attempt: lease.attempt }),
    );
    const shown = filterHits(answer.hits, { allowed: tool.allowedDomains, blocked: tool.blockedDomains });
    const left = answer.hits.length - shown.length;
    ctx.trace.addRepairs([
      `web search "${query.slice(0, 120)}": ${answer.hits.length} results from Kiro${left ? `, ${left} outside the allowed domains dropped` : ''} (${Date.now() - started} ms)`,
    ]);
    const note = left ? `(${left} result${left === 1 ? '' : 's'} outside the allowed domains were left out.)` : undefined;
    return {
      block: searchResultBlock(id, resultItems(shown)),
      forModel: resultsForModel(answer.query, shown, note),
      summary: summaryText(answer, shown, left),
      ran: true,
    };
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    const code = inBandCode(error);
    if (!code) throw error;
    ctx.context.logger.warn(`${ctx.trace.id}: web search failed (${code}): ${ctx.context.redactor.text((error as Error).message)}`);
    ctx.trace.addRepairs([`web search "${query.slice(0, 120)}" failed: ${(error as Error).message}`]);
    return failed(code, true);
  }
}

// ---- the two paths -------------------------------------------------------------------------------

interface Ending {
  reason: WebSearchStopReason;
  stopSequence?: string;
}

interface RunContext extends CallContext {
  tool: WebSearchToolConfig;
  output: WebSearchOutput;
  /** Commits a stream (headers + message_start) if not yet done. */
  commit: () => void;
  drain: () => Promise<void>;
}

async function servePureSearch(prepared: Prepared, run: RunContext): Promise<Ending> {
  const query = prepared.pureQuery!;
  const id = newServerToolUseId();
  // The search runs before the stream is committed, so an account failure is still a real HTTP error.
  const outcome = await runSearch(id, query, run.tool, run);
  run.commit();
  if (outcome.ran) run.output.countSearch();
  run.output.serverBlocks([serverToolUseBlock(id, query), outcome.block]);
  run.output.text(outcome.summary);
  await run.drain();
  return { reason: 'end_turn' };
}

function withoutTool(request: ChatRequest, name: string): Pick<ChatRequest, 'tools' | 'toolChoice'> {
  const tools = request.tools.filter((t) => t.name !== name);
  let toolChoice: ToolChoice | undefined = request.toolChoice;
  if (toolChoice?.type === 'tool' && toolChoice.name === name) toolChoice = { type: 'auto' };
  if (toolChoice?.type === 'any' && tools.length === 0) toolChoice = undefined;
  return { tools, toolChoice };
}

/** What one Kiro call of a model-driven search said. */
interface Round {
  ending: Ending;
  /** Kiro's calls of the search function (held back from the client). */
  searchCalls: { id: string; input: unknown }[];
  /** Its text and thinking, for the assistant turn that goes back to Kiro with the results. */
  said: ContentBlock[];
  /** Kiro called client tools too. */
  clientTools: boolean;
}

/**
 * Writes one Kiro call's answer to the output as one segment, holding back its calls of the search
 * function `fn` (the client sees server blocks for them instead).
 */
async function readRound(call: Opened, fn: string, inputTokens: number, run: RunContext): Promise<Round> {
  run.output.beginSegment(inputTokens);
  const searchCalls: Round['searchCalls'] = [];
  const intercepted = new Set<string>();
  const said: ContentBlock[] = [];
  let clientTools = false;
  let ending: Ending | undefined;
  await readAnswer(call, run.trace, run.signal, async (batch) => {
    const forward: OutputEvent[] = [];
    for (const event of batch) {
      switch (event.type) {
        case 'tool_start':
          if (event.name === fn) intercepted.add(event.id);
          else {
            clientTools = true;
            forward.push(event);
          }
          break;
        case 'tool_delta':
          if (!intercepted.has(event.id)) forward.push(event);
          break;
        case 'tool_end':
          if (intercepted.has(event.id)) searchCalls.push({ id: event.id, input: event.input });
          else forward.push(event);
          break;
        case 'finish':
          ending = event.stopSequence === undefined ? { reason: event.reason } : { reason: event.reason, stopSequence: event.stopSequence };
          break;
        case 'error':
          if (forward.length) run.output.write(forward);
          throw event.error;
        case 'text':
        case 'thinking': {
          const last = said.at(-1);
          if (event.type === 'text' && last?.type === 'text') last.text += event.text;
          else if (event.type === 'thinking' && last?.type === 'thinking' && last.signature === undefined) last.thinking += event.text;
          else said.push(event.type === 'text' ? { type: 'text', text: event.text } : { type: 'thinking', thinking: event.text });
          forward.push(event);
          break;
        }
        case 'thinking_signature': {
          // Kiro's signature ends the reasoning just said; it goes back to Kiro with it.
          const last = said.at(-1);
          if (last?.type === 'thinking' && last.signature === undefined) last.signature = event.signature;
          else said.push({ type: 'thinking', thinking: '', signature: event.signature });
          forward.push(event);
          break;
        }
        case 'redacted_thinking':
          said.push({ type: 'redacted_thinking', data: event.data });
          forward.push(event);
          break;
        case 'usage':
          forward.push(event);
          break;
        default: {
          const _exhaustive: never = event;
          return _exhaustive;
        }
      }
    }
    if (forward.length) {
      run.output.write(forward);
      await run.drain();
    }
  });
  run.output.endSegment();
  if (!ending) throw new KiroError('internal', 'the Kiro response ended without a finish');
  return { ending, searchCalls, said, clientTools };
}

/** The query a search function call asked for ('' when it named none). */
function queryOf(input: unknown): string {
  const query = (input as { query?: unknown } | undefined)?.query;
  return typeof query === 'string' ? query.trim() : '';
}

/**
 * Runs the searches of one round (those past `max_uses` are answered as such), writing each one's
 * server blocks; returns Kiro's calls and their results, for the next round's conversation.
 */
async function runSearchCalls(
  searchCalls: Round['searchCalls'],
  fn: string,
  count: { searches: number },
  run: RunContext,
): Promise<{ toolUses: ContentBlock[]; toolResults: ContentBlock[] }> {
  const { tool } = run;
  const toolUses: ContentBlock[] = [];
  const toolResults: ContentBlock[] = [];
  for (const searchCall of searchCalls) {
    const query = queryOf(searchCall.input);
    const id = newServerToolUseId();
    run.output.serverBlocks([serverToolUseBlock(id, query)]);
    await run.drain();
    let outcome: SearchOutcome;
    if (tool.maxUses !== undefined && count.searches >= tool.maxUses) {
      outcome = { block: searchResultBlock(id, 'max_uses_exceeded'), forModel: failureForModel(query, 'max_uses_exceeded'), summary: '', ran: false };
    } else {
      outcome = await runSearch(id, query, tool, run);
      if (outcome.ran) {
        count.searches++;
        run.output.countSearch();
      }
    }
    run.output.serverBlocks([outcome.block]);
    await run.drain();
    toolUses.push({ type: 'tool_use', id: searchCall.id, name: fn, input: searchCall.input ?? {} });
    toolResults.push({ type: 'tool_result', toolUseId: searchCall.id, content: [{ type: 'text', text: outcome.forModel }], isError: false });
  }
  return { toolUses, toolResults };
}

async function serveWithModel(prepared: Prepared, run: RunContext): Promise<Ending> {
  const { request, functionName: fn, tool } = prepared;
  const conversation: ChatMessage[] = [...request.messages];
  let toolChoice = request.toolChoice;
  const count = { searches: 0 };
  for (let round = 0; ; round++) {
    const finalRound = round === MAX_MODEL_CALLS - 1 || (tool.maxUses !== undefined && count.searches >= tool.maxUses);
    const shape = finalRound ? withoutTool({ ...request, toolChoice }, fn) : { tools: request.tools, toolChoice };
    const roundRequest: ChatRequest = { ...request, ...shape, messages: conversation };
    const inputTokens = round === 0 ? prepared.inputTokens : run.context.counter.countRequest(roundRequest);
    // Through the account pool, as the chat pipeline opens its calls (fail-over by error class,
    // refresh once and retry once).
    const call = await openUpstream(roundRequest, run.kiroModel, run.trace, run.context, run.context.config(), run.signal, { inputTokens });
    try {
      run.commit();
      const { ending, searchCalls, said, clientTools } = await readRound(call, fn, inputTokens, run);
      if (searchCalls.length === 0) return ending;

      if (finalRound) {
        // The search tool was not offered and Kiro asked for it anyway: stop here as the API does at
        // its iteration limit (`pause_turn`); a client that sends the turn back lets it continue.
        for (const searchCall of searchCalls) {
          const id = newServerToolUseId();
          run.output.serverBlocks([serverToolUseBlock(id, queryOf(searchCall.input)), searchResultBlock(id, 'max_uses_exceeded')]);
        }
        run.trace.addRepairs([`web search: stopped after ${round + 1} model calls (pause_turn)`]);
        return { reason: 'pause_turn' };
      }
      const { toolUses, toolResults } = await runSearchCalls(searchCalls, fn, count, run);
      // Client tools in the same turn: the client must run them; the searches are in the message.
      if (clientTools) return { reason: 'tool_use' };
      if (ending.reason !== 'tool_use') return ending;
      conversation.push({ role: 'assistant', content: [...said, ...toolUses] }, { role: 'user', content: toolResults });
      // A forced search is satisfied once it ran.
      if (toolChoice?.type === 'tool' && toolChoice.name === fn) toolChoice = { type: 'auto' };
    } finally {
      call.upstream.cancel();
    }
  }
}

// ---- the route ---------------------------------------------------------------------------------

/** POST /v1/messages for a body that carries the server web search tool (see web-search-routes). */
export async function handleWebSearchMessages({ res, body, trace, context, signal }: RouteCall): Promise<void> {
  const config = context.config();
  let prepared: Prepared;
  try {
    prepared = prepare(body, context);
  } catch (error) {
    failBeforeCommit(anthropicApi, res, trace, error, context);
    return;
  }
  const { request, kiroModel, inputTokens } = prepared;
  trace.addRepairs(prepared.notes);
  trace.addRepairs([
    prepared.pureQuery
      ? 'web search request answered from Kiro web search results'
      : `server web_search tool offered to Kiro as the function "${prepared.functionName}"`,
  ]);
  trace.captureClientRequest(body);
  trace.update({ modelAsked: request.model, kiroModel, stream: request.stream, inputTokens, flags: { streamed: request.stream } });

  const meta: AnthropicOutputMeta = { messageId: newMessageId(), ...outputBase(request, kiroModel, inputTokens, context) };
  const stream = request.stream
    ? new StreamCommitter(res, {
        headers: { ...SSE_HEADERS, ...anthropicApi.idHeaders(trace.id) },
        pingIntervalSeconds: config.pingIntervalSeconds,
        writer: (sink) => new WebSearchStreamWriter(sink, meta, context.redactor),
        onCommit: () => trace.update({ status: 200 }),
        onWrite: () => trace.markFirstByte(),
      })
    : undefined;
  const builder = stream ? undefined : new WebSearchMessageBuilder(meta);
  const output: WebSearchOutput = stream?.writer ?? builder!;

  try {
    const run: RunContext = {
      kiroModel,
      trace,
      context,
      signal,
      tool: prepared.tool,
      output,
      commit: () => stream?.commit(),
      drain: async () => {
        if (res.writableNeedDrain) await waitForDrain(res);
        if (signal.aborted) throw signal.reason;
      },
    };
    const ending = prepared.pureQuery ? await servePureSearch(prepared, run) : await serveWithModel(prepared, run);
    output.finish(ending.reason, ending.stopSequence);
    trace.recordOutcome(ending.reason, output.totals);
    if (stream) {
      res.end();
    } else {
      const message = builder!.message();
      trace.captureResponse(message);
      sendJson(res, 200, message, { 'request-id': trace.id });
    }
    trace.finish(200);
  } catch (error) {
    if (finishIfClientGone(signal, trace)) return;
    const failure = failureToAnswer(error, signal);
    if (stream && (stream.committed || res.headersSent)) {
      stream.writer.fail(failure);
      const info = anthropicErrorFor(failure, context.redactor);
      trace.update({ outputTokens: stream.writer.totals.outputTokens });
      if (!res.writableEnded) res.end();
      trace.finish(200, { type: info.type, message: info.message });
    } else {
      failBeforeCommit(anthropicApi, res, trace, failure, context);
    }
  } finally {
    stream?.stop();
  }
}
