// POST /v1/messages and /v1/messages/count_tokens: the Anthropic side of the shared chat pipeline
// (chat-pipeline.ts holds the rules every API follows: commit on first events or first ping,
// refresh-once/retry-once on a rejected token, back-pressure, abort on disconnect, the traffic
// record). This module only says how an Anthropic request is parsed, how the answer is written
// (message_start … message_stop, or one Message) and how errors look.
import type { ServerResponse } from 'node:http';
import { InvalidRequestError, parseAnthropicRequest, parseCountTokensRequest } from './anthropic-input';
import { AnthropicStreamWriter, anthropicErrorFor, buildAnthropicMessage, newMessageId, type AnthropicOutputMeta } from './anthropic-output';
import { failBeforeCommit, prepare, serveChat, type ApiErrorInfo, type ChatApi, type Exchange } from '../pipeline/chat-pipeline';
import type { OutputBase } from '../pipeline/output';
import type { BridgeContext, BridgeRoute } from '../context';
import { sendAnthropicError, sendJson } from '../http/http';
import type { RequestTrace } from '../traffic';

function exchange(parsed: ReturnType<typeof parseAnthropicRequest>): Exchange {
  const messageId = newMessageId();
  const meta = (base: OutputBase): AnthropicOutputMeta => ({ ...base, messageId });
  return {
    request: parsed.request,
    notes: parsed.notes,
    streamWriter: (sink, base, redactor) => new AnthropicStreamWriter(sink, meta(base), redactor),
    build: (events, base) => buildAnthropicMessage(events, meta(base)),
  };
}

/** The Anthropic Messages API as the shared pipeline sees it. */
export const anthropicApi: ChatApi = {
  parse: (body, options) => exchange(parseAnthropicRequest(body, options)),
  unknownModel: (message) => new InvalidRequestError(message),
  errorFor(error, redactor): ApiErrorInfo {
    if (error instanceof InvalidRequestError) return { status: 400, type: 'invalid_request_error', message: redactor.text(error.message) };
    return anthropicErrorFor(error, redactor);
  },
  // The guards already set `request-id` on every response.
  sendError: (res, info) => sendAnthropicError(res, info),
  idHeaders: (requestId) => ({ 'request-id': requestId }),
};

/** count_tokens validates like /v1/messages, without max_tokens or stream. */
const countTokensApi: ChatApi = { ...anthropicApi, parse: (body, options) => exchange(parseCountTokensRequest(body, options)) };

/** POST /v1/messages/count_tokens. */
export async function handleCountTokens(res: ServerResponse, body: unknown, trace: RequestTrace, context: BridgeContext): Promise<void> {
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(countTokensApi, body, context);
  } catch (error) {
    failBeforeCommit(countTokensApi, res, trace, error, context);
    return;
  }
  trace.update({ modelAsked: prepared.request.model, kiroModel: prepared.kiroModel, inputTokens: prepared.inputTokens });
  const answer = { input_tokens: prepared.inputTokens };
  trace.captureResponse(answer);
  sendJson(res, 200, answer);
  trace.finish(200);
}

export const messagesRoute: BridgeRoute = {
  method: 'POST',
  path: '/v1/messages',
  api: 'anthropic',
  handle: (call) => serveChat(anthropicApi, call),
};

export const countTokensRoute: BridgeRoute = {
  method: 'POST',
  path: '/v1/messages/count_tokens',
  api: 'count_tokens',
  handle: ({ res, body, trace, context }) => handleCountTokens(res, body, trace, context),
};
