// The two runtime calls beside generate: getUsageLimits (credits, reset date, e-mail) and
// ListAvailableModels (what this account's tier may use; docs/kiro-protocol.md#other-calls). Both
// go out on the account's own connection pool with its machineId, with the headers the IDE sends
// and nothing else; a non-200 answer becomes the same classified KiroError the generate call gives.
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { KiroAccount } from '../accounts/account';
import type { AccessToken } from '../accounts/auth';
import { readLimited } from './read-limited';
import { KiroError, classifyNetworkError, classifyUpstreamResponse } from '../errors';
import { runtimeUserAgents, sdkHeaders } from './identity';

const MAX_BODY = 256 * 1024;
const DEFAULT_TIMEOUT_MS = 20_000;

export interface RuntimeCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

function runtimeHeaders(account: KiroAccount, token: AccessToken): Record<string, string> {
  return sdkHeaders(runtimeUserAgents(account.machineId), randomUUID(), 'attempt=1; max=1', token);
}

async function call(
  account: KiroAccount,
  url: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  what: string,
  options: RuntimeCallOptions,
): Promise<unknown> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let status: number;
  let text: string;
  let headers: Record<string, string | string[] | undefined>;
  try {
    const response = await request(url, { ...init, dispatcher: account.dispatcher, signal });
    status = response.statusCode;
    headers = response.headers as Record<string, string | string[] | undefined>;
    text = await readLimited(response.body, MAX_BODY);
  } catch (error) {
    const failure = classifyNetworkError(error);
    throw new KiroError(failure.errorClass, `${what}: ${failure.message}`, { account: account.label, reason: failure.reason, cause: error, status: 0 });
  }
  if (status !== 200) {
    const failure = classifyUpstreamResponse(status, text, headers);
    throw new KiroError(failure.errorClass, `${what}: ${failure.message}`, {
      status,
      reason: failure.reason,
      retryAfterSeconds: failure.retryAfterSeconds,
      account: account.label,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KiroError('upstream_unavailable', `${what}: Kiro answered 200 with a body that is not JSON`, { status, account: account.label });
  }
}

/** GET getUsageLimits: the raw answer (read it with `summarizeUsage`). */
export function fetchUsageLimits(account: KiroAccount, token: AccessToken, options: RuntimeCallOptions = {}): Promise<unknown> {
  const query = new URLSearchParams({ isEmailRequired: 'true', origin: 'AI_EDITOR', resourceType: 'AGENTIC_REQUEST' });
  // Only a profile the account really has (see accounts/profile.ts): never a placeholder here.
  const profileArn = account.profile.arn;
  if (profileArn) query.set('profileArn', profileArn);
  return call(
    account,
    `${account.endpoints.usageLimits}?${query.toString()}`,
    { method: 'GET', headers: runtimeHeaders(account, token) },
    'usage check',
    options,
  );
}

export interface AvailableModels {
  /** Kiro model ids the account may use, in Kiro's order. */
  models: string[];
  defaultModel?: string;
}

/** POST ListAvailableModels (awsJson1.0). */
export async function fetchAvailableModels(account: KiroAccount, token: AccessToken, options: RuntimeCallOptions = {}): Promise<AvailableModels> {
  const body: Record<string, string> = { origin: 'AI_EDITOR' };
  const profileArn = account.profile.arn;
  if (profileArn) body.profileArn = profileArn;
  const answer = await call(
    account,
    account.endpoints.awsJson,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AmazonCodeWhispererService.ListAvailableModels',
        ...runtimeHeaders(account, token),
      },
      body: JSON.stringify(body),
    },
    'model list',
    options,
  );
  return parseAvailableModels(answer);
}

function parseAvailableModels(answer: unknown): AvailableModels {
  const root = (answer && typeof answer === 'object' ? answer : {}) as { models?: unknown; defaultModel?: { modelId?: unknown } };
  const models: string[] = [];
  if (Array.isArray(root.models)) {
    for (const model of root.models) {
      const id = (model as { modelId?: unknown } | null)?.modelId;
      if (typeof id === 'string' && id && !models.includes(id)) models.push(id);
    }
  }
  const defaultModel = typeof root.defaultModel?.modelId === 'string' ? root.defaultModel.modelId : undefined;
  return { models, defaultModel };
}
