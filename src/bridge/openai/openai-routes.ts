// The OpenAI routes: POST /v1/chat/completions, POST /v1/responses and GET /v1/responses/{id}.
// Each is a ChatApi over the shared pipeline (chat-pipeline.ts): this module only says how to
// parse, how to write and build answers, and which error shape to use.
import type { ServerResponse } from 'node:http';
import type { BridgeRoute } from '../context';
import type { ApiErrorInfo, ChatApi, Exchange } from '../pipeline/chat-pipeline';
import { serveChat } from '../pipeline/chat-pipeline';
import { sendJson } from '../http/http';
import { OpenAIRequestError, openaiErrorFor, sendOpenAIError, sendOpenAIRouteError, type OpenAIErrorInfo } from './openai-errors';
import { parseChatCompletionRequest } from './openai-input';
import { ChatCompletionStreamWriter, buildChatCompletion, newChatCompletionId } from './openai-output';
import { parseResponsesRequest } from '../responses/responses-input';
import {
  ResponsesStreamWriter,
  buildResponse,
  newResponseId,
  outputAsMessage,
  type ResponseObject,
  type ResponseOutputItem,
  type ResponsesOutputMeta,
} from '../responses/responses-output';
import type { ResponsesStore } from '../responses/responses-store';

const nowSeconds = () => Math.floor(Date.now() / 1000);

const openaiShape = {
  unknownModel: (message: string) => new OpenAIRequestError(message, 'model', 'model_not_found', 404),
  sendError: (res: ServerResponse, info: ApiErrorInfo, headers: Record<string, string>) => sendOpenAIError(res, info as OpenAIErrorInfo, headers),
  idHeaders: (requestId: string) => ({ 'x-request-id': requestId }),
};

export const chatCompletionsApi: ChatApi = {
  ...openaiShape,
  errorFor: (error, redactor) => openaiErrorFor(error, redactor, 'messages'),
  parse(body, options): Exchange {
    const { request, notes, includeUsage, thinkingOff } = parseChatCompletionRequest(body, options);
    const id = newChatCompletionId();
    const created = nowSeconds();
    return {
      request,
      notes,
      thinkingOff,
      streamWriter: (sink, base, redactor) => new ChatCompletionStreamWriter(sink, { ...base, id, created, includeUsage }, redactor),
      build: (events, base) => buildChatCompletion(events, { ...base, id, created }),
    };
  },
};

/** /v1/responses; responses the client lets OpenAI store (`store` not false) are kept in `store`. */
export function responsesApi(store: ResponsesStore | undefined): ChatApi {
  return {
    ...openaiShape,
    errorFor: (error, redactor) => openaiErrorFor(error, redactor, 'input'),
    parse(body, options): Exchange {
      const parsed = parseResponsesRequest(body, {
        ...options,
        previous: store ? (id) => store.get(id) : undefined,
        item: store ? (id) => store.item(id) : undefined,
      });
      const { request, echo, customTools, namespacedTools, inputSystem, encryptedReasoning } = parsed;
      const id = newResponseId();
      const created = nowSeconds();
      // The conversation so far, with this answer as its last turn, for previous_response_id and
      // item_reference. A stream keeps it as it sends response.completed (the client may refer to
      // it at once); a JSON answer as it is sent. The items are kept as the bridge holds them
      // (reasoning with its envelope), so Kiro's signatures survive either way of referring back.
      const remember = (response: ResponseObject, items: readonly ResponseOutputItem[]) => {
        if (!store || !echo.store || response.status === 'failed') return;
        store.put({ id, system: inputSystem, messages: [...request.messages, outputAsMessage(items)], response, items });
      };
      const meta = (base: Parameters<Exchange['build']>[1], onFinal?: ResponsesOutputMeta['onFinal']): ResponsesOutputMeta => ({
        ...base,
        id,
        created,
        echo,
        customTools,
        namespacedTools,
        encryptedReasoning,
        onFinal,
      });
      let final: { response: ResponseObject; items: readonly ResponseOutputItem[] } | undefined;
      return {
        request,
        notes: parsed.notes,
        thinkingOff: parsed.thinkingOff,
        streamWriter: (sink, base, redactor) => new ResponsesStreamWriter(sink, meta(base, remember), redactor),
        build: (events, base) => {
          const built = buildResponse(events, meta(base));
          final = { response: built.body, items: built.items };
          return built;
        },
        delivered: () => {
          if (final) remember(final.response, final.items);
        },
      };
    },
  };
}

export function openaiRoutes(store: ResponsesStore | undefined): BridgeRoute[] {
  const responses = responsesApi(store);
  return [
    {
      method: 'POST',
      path: '/v1/chat/completions',
      api: 'openai',
      sendError: sendOpenAIRouteError,
      handle: (call) => serveChat(chatCompletionsApi, call),
    },
    {
      method: 'POST',
      path: '/v1/responses',
      api: 'responses',
      sendError: sendOpenAIRouteError,
      handle: (call) => serveChat(responses, call),
    },
    {
      method: 'GET',
      path: '/v1/responses/:id',
      api: 'responses',
      sendError: sendOpenAIRouteError,
      handle: ({ req, res, trace }) => {
        const id = String(req.params.id);
        const stored = store?.get(id);
        if (!stored) {
          const info: OpenAIErrorInfo = {
            status: 404,
            type: 'invalid_request_error',
            message: `No response found with id '${id.slice(0, 100)}' (the bridge keeps recent responses in memory only, and none sent with store: false).`,
            param: null,
            code: null,
          };
          sendOpenAIError(res, info, { 'x-request-id': trace.id });
          trace.finish(404, { type: info.type, message: info.message });
          return;
        }
        sendJson(res, 200, stored.response, { 'x-request-id': trace.id });
        trace.finish(200);
      },
    },
  ];
}
