// The error answers the real upstream gives (docs/kiro-protocol.md#errors), as scenario
// builders. Bodies are quoted from observed upstream traffic where any exists; the source is
// named beside each one that is not in that table verbatim.
import type { HttpReply, Scenario } from './types';

const AMZ_JSON = { 'content-type': 'application/json' };

function reply(name: string, status: number, body: unknown, headers: Record<string, string> = {}): Scenario {
  return { name, steps: [{ http: { status, body, headers: { ...AMZ_JSON, ...headers } } }] };
}

export const BEARER_INVALID_MESSAGE = 'The bearer token included in the request is invalid.';

/**
 * Suspension text as users have pasted it (Kiro's issue tracker, e.g. issue 4963) with the `reason` newer hosts add
 * (kiro-lb / cliproxy notes quote `"reason":"TEMPORARILY_SUSPENDED"`).
 */
export const SUSPENDED_MESSAGE =
  "Your User ID (d-9067642ac7.34488428) temporarily is suspended. We've locked your account as a security precaution. " +
  'To restore access, please contact our support team to verify your identity: https://support.aws.amazon.com/#/contacts/kiro';

/** Named upstream failures of the generate call, ready to script. */
export const upstreamErrors = {
  /** 400 ValidationException, `reason: null` — malformed conversation. */
  improperlyFormed: (reason: string | null = null): Scenario =>
    reply('improperly-formed', 400, { message: 'Improperly formed request.', reason }, { 'x-amzn-errortype': 'ValidationException' }),
  /** 400 bad tool spec (xwteam/kiro2api's changelog, 0.11.1). */
  invalidToolUse: (): Scenario =>
    reply('invalid-tool-use', 400, { message: 'Invalid tool use format.', reason: 'REQUEST_BODY_INVALID' }, { 'x-amzn-errortype': 'ValidationException' }),
  /** 400 input too long (body as logged by several 2026 proxies). */
  contentLengthExceeded: (): Scenario =>
    reply(
      'content-length-exceeded',
      400,
      { message: 'Input is too long.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' },
      { 'x-amzn-errortype': 'ValidationException' },
    ),
  /** 400 model not in this account's tier (body as captured in 2026 proxy tests). */
  invalidModel: (): Scenario =>
    reply(
      'invalid-model',
      400,
      { message: 'Invalid model. Please select a different model to continue.', reason: 'INVALID_MODEL_ID' },
      { 'x-amzn-errortype': 'ValidationException' },
    ),
  /** 400 tool use without tool definitions (reported by xwteam/kiro2api). */
  toolConfigMissing: (): Scenario =>
    reply('tool-config-missing', 400, { message: 'Improperly formed request.', reason: 'TOOL_CONFIG_MISSING' }, { 'x-amzn-errortype': 'ValidationException' }),
  /** 402 monthly credits used up. */
  monthlyLimit: (): Scenario =>
    reply('monthly-limit', 402, { message: 'You have reached the limit.', reason: 'MONTHLY_REQUEST_COUNT' }, { 'x-amzn-errortype': 'ThrottlingException' }),
  /** 403 expired or unknown bearer token. */
  bearerInvalid: (): Scenario => reply('bearer-invalid', 403, { message: BEARER_INVALID_MESSAGE }, { 'x-amzn-errortype': 'AccessDeniedException' }),
  /** 403 account locked. */
  suspended: (): Scenario =>
    reply(
      'suspended',
      403,
      { __type: 'com.amazon.aws.codewhisperer#AccessDeniedException', message: SUSPENDED_MESSAGE, reason: 'TEMPORARILY_SUSPENDED' },
      { 'x-amzn-errortype': 'AccessDeniedException' },
    ),
  /** 429 ThrottlingException with retry-after (seconds). */
  throttled: (retryAfterSeconds = 2, message = 'Too many requests, please wait before trying again.'): Scenario =>
    reply('throttled', 429, { message, reason: null }, { 'x-amzn-errortype': 'ThrottlingException', 'retry-after': String(retryAfterSeconds) }),
  /** 5xx with the capacity reason proxies retry on. */
  insufficientCapacity: (status = 500): Scenario =>
    reply(
      'insufficient-capacity',
      status,
      { message: 'I am experiencing high traffic, please try again shortly.', reason: 'INSUFFICIENT_MODEL_CAPACITY' },
      { 'x-amzn-errortype': 'InternalServerException' },
    ),
  /** 500 InternalServerException. */
  internal: (): Scenario =>
    reply(
      'internal',
      500,
      { message: 'Encountered an unexpected error when processing the request, please try again.' },
      { 'x-amzn-errortype': 'InternalServerException' },
    ),
  /** 503 ServiceUnavailableException. */
  unavailable: (): Scenario => reply('unavailable', 503, { message: 'Service Unavailable' }, { 'x-amzn-errortype': 'ServiceUnavailableException' }),
  /** 400 non-JSON body (reported). */
  bodyNotJson: (): Scenario =>
    reply('body-not-json', 400, { message: 'The request body is not valid JSON.' }, { 'x-amzn-errortype': 'SerializationException' }),
} as const;

/** Answer helpers the server itself uses. */
export function bearerInvalidReply(): HttpReply {
  return httpOf(upstreamErrors.bearerInvalid());
}

export function httpOf(scenario: Scenario): HttpReply {
  const step = scenario.steps[0];
  if (!step || !('http' in step)) throw new Error('not an http scenario');
  return step.http;
}

/**
 * Social refresh with a bad refresh token. Observed bodies: 400
 * `{"message":"Invalid refresh token provided"}` (caidaoli/kiro2api #4, Aug 2025) and bare 401s
 * (2026 gateway issues). The 2026 status is the default.
 */
export function socialRefreshRejected(status: 400 | 401 = 401): HttpReply {
  return { status, body: { message: 'Invalid refresh token provided' }, headers: { ...AMZ_JSON } };
}

/** SSO-OIDC error shape (`error` + `error_description`, as in the AWS Toolkit's service model). */
export function oidcError(error: string, description: string, status = 400): HttpReply {
  const type = error
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  return {
    status,
    body: { error, error_description: description },
    headers: { ...AMZ_JSON, 'x-amzn-errortype': `${type}Exception` },
  };
}
