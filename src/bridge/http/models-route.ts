// GET /v1/models and /v1/models/:id. Each entry carries both list formats at once, so Anthropic
// and OpenAI clients read the same answer:
//   Anthropic: { type: "model", id, display_name, created_at } in { data, has_more, first_id, last_id }
//   OpenAI:    { id, object: "model", created, owned_by }       in { object: "list", data }
// Anthropic's pagination (limit, after_id, before_id) is honoured; without it every model is listed.
// Models are plan-gated on Kiro's side: the list is the union of what the usable accounts report,
// and each entry names the accounts that offer it (`kiro_accounts`, an extra field both APIs'
// clients ignore).
import type { ServerResponse } from 'node:http';
import { modelCatalog, type ModelCatalogEntry } from '../../kiro/models';
import type { BridgeConfig } from '../config';
import type { BridgeRoute } from '../context';
import { sendAnthropicError, sendJson } from './http';

export interface ModelEntry {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** Extra facts clients may use: the Kiro model behind the name and its context window. */
  kiro_model: string;
  context_window: number;
  thinking: boolean;
  /** Labels of the usable accounts whose Kiro model list names `kiro_model` (when any list is known). */
  kiro_accounts?: string[];
}

/** Per Kiro model id, the labels of the accounts that offer it. */
export type ModelAccounts = ReadonlyMap<string, readonly string[]>;

function toEntry(model: ModelCatalogEntry, accounts: ModelAccounts | undefined): ModelEntry {
  const offeredBy = accounts?.get(model.kiroModel);
  return {
    type: 'model',
    id: model.id,
    display_name: model.displayName,
    created_at: model.createdAt,
    object: 'model',
    created: model.created,
    owned_by: model.alias ? 'user' : model.kiroModel.startsWith('claude') ? 'anthropic' : 'kiro',
    kiro_model: model.kiroModel,
    context_window: model.contextWindow,
    thinking: model.thinking,
    ...(accounts ? { kiro_accounts: [...(offeredBy ?? [])] } : {}),
  };
}

/**
 * The listed models. With `available` (what at least one usable account can use, from
 * ListAvailableModels and INVALID_MODEL_ID answers) only those are listed; without it (no list
 * known yet) every model the bridge knows.
 */
export function modelEntries(config: Pick<BridgeConfig, 'modelAliases'>, available?: ReadonlySet<string>, accounts?: ModelAccounts): ModelEntry[] {
  // Which accounts offer a model is told only when some account's list is known.
  const known = accounts && accounts.size > 0 ? accounts : undefined;
  return modelCatalog(available, { aliases: config.modelAliases }).map((model) => toEntry(model, known));
}

export function handleListModels(
  res: ServerResponse,
  query: URLSearchParams,
  config: BridgeConfig,
  available?: ReadonlySet<string>,
  accounts?: ModelAccounts,
): number {
  const all = modelEntries(config, available, accounts);
  const limitText = query.get('limit');
  let items = all;
  const afterId = query.get('after_id');
  const beforeId = query.get('before_id');
  if (afterId) {
    const at = all.findIndex((m) => m.id === afterId);
    items = at === -1 ? [] : all.slice(at + 1);
  } else if (beforeId) {
    const at = all.findIndex((m) => m.id === beforeId);
    items = at === -1 ? [] : all.slice(0, at);
  }
  let hasMore = false;
  if (limitText !== null) {
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      sendAnthropicError(res, { status: 400, type: 'invalid_request_error', message: 'limit: Input should be an integer from 1 to 1000' });
      return 400;
    }
    if (beforeId) {
      hasMore = items.length > limit;
      items = items.slice(Math.max(0, items.length - limit));
    } else {
      hasMore = items.length > limit;
      items = items.slice(0, limit);
    }
  }
  sendJson(res, 200, {
    object: 'list',
    data: items,
    has_more: hasMore,
    first_id: items[0]?.id ?? null,
    last_id: items[items.length - 1]?.id ?? null,
  });
  return 200;
}

export function handleGetModel(res: ServerResponse, id: string, config: BridgeConfig, available?: ReadonlySet<string>, accounts?: ModelAccounts): number {
  const model = modelEntries(config, available, accounts).find((m) => m.id === id);
  if (!model) {
    sendAnthropicError(res, { status: 404, type: 'not_found_error', message: `model: no model named "${id.slice(0, 200)}"` });
    return 404;
  }
  sendJson(res, 200, model);
  return 200;
}

export const modelRoutes: BridgeRoute[] = [
  {
    method: 'GET',
    path: '/v1/models',
    api: 'models',
    handle: ({ req, res, trace, context }) =>
      trace.finish(
        handleListModels(
          res,
          new URLSearchParams((req.url ?? '').split('?')[1] ?? ''),
          context.config(),
          context.accounts.availableModels(),
          context.accounts.modelAccounts?.(),
        ),
      ),
  },
  {
    method: 'GET',
    path: '/v1/models/:id',
    api: 'models',
    handle: ({ req, res, trace, context }) =>
      trace.finish(handleGetModel(res, String(req.params.id), context.config(), context.accounts.availableModels(), context.accounts.modelAccounts?.())),
  },
];
