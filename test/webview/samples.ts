// Realistic traffic for the traffic view's tests: RequestRecords as the bridge publishes them,
// and requests that carry secrets in every place we have seen one travel.

import type { RequestRecord } from '../../src/traffic/traffic';

const CLIENTS = ['Claude Code', 'Cline', 'Roo Code', 'Continue', 'Codex', 'SDK', 'curl'];
const MODELS: [string, string, RequestRecord['api']][] = [
  ['claude-sonnet-4-5-20250929', 'claude-sonnet-4.5', 'anthropic'],
  ['claude-haiku-4-5-20251001', 'claude-haiku-4.5', 'anthropic'],
  ['gpt-4o', 'claude-sonnet-4.5', 'openai'],
  ['claude-opus-4-1', 'claude-opus-4.1', 'anthropic'],
];
const ACCOUNTS = ['aor…x7Qz', 'aor…K2mP'];

/** A finished request `i` (deterministic), with optional overrides. */
export function sampleRecord(i: number, overrides: Partial<RequestRecord> = {}, base = Date.UTC(2026, 10, 27, 13, 0, 0)): RequestRecord {
  const [asked, kiro, api] = MODELS[i % MODELS.length]!;
  const failed = i % 11 === 5;
  const throttled = i % 17 === 9;
  const status = failed ? 400 : throttled ? 429 : 200;
  const streamed = i % 3 !== 0;
  const inputTokens = 1_200 + (i % 23) * 530;
  // Kiro reports its prompt-cache numbers for some answers: the later turns of a session mostly hit.
  const cache = status === 200 && i % 2 === 0 ? { cacheReadTokens: Math.round(inputTokens * ((i % 10) / 10)), cacheWriteTokens: 100 + (i % 7) * 10 } : {};
  const record: RequestRecord = {
    id: `req-${String(i).padStart(5, '0')}`,
    startedAt: base + i * 1_700,
    method: 'POST',
    path: api === 'openai' ? '/v1/chat/completions' : '/v1/messages',
    client: CLIENTS[i % CLIENTS.length]!,
    api,
    stream: streamed,
    modelAsked: asked,
    kiroModel: kiro,
    account: ACCOUNTS[i % ACCOUNTS.length],
    attempts: [{ account: ACCOUNTS[i % ACCOUNTS.length]!, status, durationMs: 800 + (i % 7) * 310 }],
    status,
    stopReason: status === 200 ? (i % 4 === 0 ? 'tool_use' : 'end_turn') : undefined,
    ttftMs: status === 200 ? 420 + (i % 9) * 95 : undefined,
    durationMs: 900 + (i % 13) * 420,
    inputTokens,
    outputTokens: status === 200 ? 80 + (i % 19) * 41 : 0,
    ...cache,
    credits: status === 200 ? Math.round((0.05 + (i % 5) * 0.07) * 100) / 100 : 0,
    repairs: i % 6 === 1 ? ['merged adjacent user messages', 'dropped empty text block'] : [],
    flags: { streamed, retried: i % 13 === 4, failedOver: i % 29 === 7, truncated: i % 31 === 3, repaired: i % 6 === 1 },
    ...(failed ? { error: { type: 'invalid_request_error', message: 'Improperly formed request: tool_use without tool_result' } } : {}),
    ...(throttled ? { error: { type: 'rate_limit_error', message: 'Too many requests, please wait before trying again.' } } : {}),
    clientRequest: {
      model: asked,
      max_tokens: 8192,
      stream: streamed,
      system: 'You are Claude Code, an interactive CLI tool that helps users with software engineering tasks.',
      messages: [{ role: 'user', content: [{ type: 'text', text: `Refactor the parser in src/parse.ts (request ${i})` }] }],
    },
    kiroRequest: {
      conversationState: {
        chatTriggerType: 'MANUAL',
        conversationId: `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`,
        currentMessage: { userInputMessage: { content: `Refactor the parser in src/parse.ts (request ${i})`, modelId: kiro, origin: 'AI_EDITOR' } },
      },
    },
    upstreamEvents: [
      { type: 'assistantResponseEvent', content: 'Sure — ' },
      { type: 'assistantResponseEvent', content: 'here is the refactored parser.' },
      { type: 'meteringEvent', unit: 'credit', unitPlural: 'credits', usage: 0.12 },
      { type: 'contextUsageEvent', contextUsagePercentage: 4.2 },
    ],
    response: { id: `msg_${i}`, type: 'message', role: 'assistant', stop_reason: 'end_turn', usage: { input_tokens: 1200, output_tokens: 80 } },
  };
  return { ...record, ...overrides };
}

export function sampleRecords(n: number, base?: number): RequestRecord[] {
  return Array.from({ length: n }, (_, i) => sampleRecord(i, {}, base));
}

/** A request still streaming: no status, no duration yet. */
export function inFlight(record: RequestRecord): RequestRecord {
  const { status: _s, durationMs: _d, stopReason: _r, outputTokens: _o, credits: _c, error: _e, response: _p, ...rest } = record;
  return { ...rest, attempts: [] };
}

// ---- secrets ---------------------------------------------------------------------------------

/** Secret values as they really look (fabricated, never real credentials). */
export const SECRETS = {
  clientKey: 'kb-7f3a9c2e4b1d8f6a0c5e9b3d7a1f4c8e',
  anthropicKey: 'sk-ant-api03-Zx9Qm2Lk7Vb4Nc1Hd8Tg5Rf3Wj6Ys0Pa-AbCdEfGhIjKlMnOp_qrstuv',
  openaiKey: 'sk-proj-4Hq8Rt2Wz6Xc9Vb1Nm5Lk3Jh7Gf0Ds-Ae4Sd8Fg2Hj6Kl',
  accessToken: 'aoaAAAAAGh4Qk2nZxY7c8-Tq1LpWm3Rv9Bs0Dt5Fy6Gu4Hi7Jo2Kp8Lq1Mr3Ns5Ot:MGUCMQC1x2y3z4',
  refreshToken: 'aorAAAAAGj7Rk3mYwX6b9-Sp2KoVn4Qu8Ar1Cs6Ex5Fw3Gv7Hh1Ij9Jk2Kl4Lm6Mn:MGQCMBx9y8z7w6',
  idcClientSecret:
    'eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0.eyJzZXJpYWxpemVkIjoie1wiY2xpZW50SWRcIjp7XCJ2YWx1ZVwiOlwiYWJjXCJ9fSJ9.c2lnbmF0dXJlLXZhbHVlLWZvci10ZXN0aW5nLW9ubHk',
  kiroApiKey: 'ksk_example-test-key-not-issued-by-kiro',
  // AWS's documentation example key, assembled so no scanner mistakes this file for a leak.
  awsAccessKeyId: ['AKIA', 'IOSFODNN7EXAMPLE'].join(''),
  awsSessionToken: 'IQoJb3JpZ2luX2VjEHIaCXVzLWVhc3QtMSJHMEUCIQD7wGZ8k1EXAMPLEsessionTOKENvalue',
  /** A key with no recognisable shape: caught only because it is registered or by its header name. */
  shapelessKey: 'local-dev-key-Zq81',
  githubToken: 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
  cookie: 'session=3f9a1c7e5b2d4f6a8c0e; csrftoken=Xy7Zq2Wv9',
};

export interface SecretCase {
  name: string;
  record: RequestRecord;
  /** Values that must not appear anywhere in what leaves the host. */
  secrets: string[];
}

/** Requests that carry secrets where real traffic does. */
export function secretCases(): SecretCase[] {
  const s = SECRETS;
  return [
    {
      name: 'Anthropic client with x-api-key header and a key pasted into the prompt',
      record: sampleRecord(1, {
        clientRequest: {
          headers: { 'x-api-key': s.clientKey, 'anthropic-version': '2023-06-01', 'user-agent': 'claude-cli/2.0.14 (external, cli)' },
          body: {
            model: 'claude-sonnet-4-5-20250929',
            messages: [{ role: 'user', content: `My ANTHROPIC_API_KEY=${s.anthropicKey}, why does this fail?` }],
          },
        },
      }),
      secrets: [s.clientKey, s.anthropicKey],
    },
    {
      name: 'OpenAI client with a Bearer key and raw header pairs',
      record: sampleRecord(2, {
        api: 'openai',
        clientRequest: {
          rawHeaders: ['Host', '127.0.0.1:8765', 'Authorization', `Bearer ${s.openaiKey}`, 'X-Api-Key', s.shapelessKey],
          headerEntries: [
            ['authorization', `Bearer ${s.openaiKey}`],
            ['content-type', 'application/json'],
          ],
          body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] },
        },
      }),
      secrets: [s.openaiKey, s.shapelessKey],
    },
    {
      name: 'Kiro request with the account access token and profile in headers',
      record: sampleRecord(3, {
        kiroRequest: {
          url: 'https://q.us-east-1.amazonaws.com/generateAssistantResponse',
          headers: {
            Authorization: `Bearer ${s.accessToken}`,
            'x-amz-user-agent': 'aws-sdk-js/1.0.7 KiroIDE-0.2.13-66c23a8c5d15afabec89ef9954ef52a119f10d369df04d548fc6c1eac694b0d1',
            'amz-sdk-invocation-id': '0f5e8c1a-2b3c-4d5e-8f9a-0b1c2d3e4f5a',
          },
          body: { conversationState: { currentMessage: { userInputMessage: { content: 'hi', modelId: 'claude-sonnet-4.5' } } } },
        },
      }),
      secrets: [s.accessToken],
    },
    {
      name: 'Kiro IDE token file pasted into a tool result',
      record: sampleRecord(4, {
        clientRequest: {
          messages: [
            {
              role: 'user',
              content: [
                {
                  type: 'tool_result',
                  tool_use_id: 'toolu_01',
                  content: JSON.stringify({
                    accessToken: s.accessToken,
                    refreshToken: s.refreshToken,
                    expiresAt: '2026-11-27T14:00:00.000Z',
                    authMethod: 'IdC',
                    clientSecret: s.idcClientSecret,
                  }),
                },
              ],
            },
          ],
        },
      }),
      secrets: [s.accessToken, s.refreshToken, s.idcClientSecret],
    },
    {
      name: 'IdC refresh body embedded twice-encoded in an upstream error event',
      record: sampleRecord(5, {
        upstreamEvents: [
          { type: 'error', message: `refresh failed for {\\"clientSecret\\":\\"${s.idcClientSecret}\\",\\"refreshToken\\":\\"${s.refreshToken}\\"}` },
          { type: 'exception', headers: `Authorization: Bearer ${s.accessToken}\r\nCookie: ${s.cookie}\r\n` },
        ],
        error: { type: 'api_error', message: `upstream said: x-api-key: ${s.shapelessKey}` },
      }),
      secrets: [s.idcClientSecret, s.refreshToken, s.accessToken, s.cookie, 'csrftoken=Xy7Zq2Wv9', s.shapelessKey],
    },
    {
      name: 'Kiro API key, AWS credentials and a GitHub token in a tool call',
      record: sampleRecord(6, {
        kiroRequest: { headers: { authorization: `Bearer ${s.kiroApiKey}`, tokentype: 'API_KEY' } },
        response: {
          content: [
            {
              type: 'tool_use',
              name: 'write_file',
              input: {
                path: '.env',
                text: `AWS_ACCESS_KEY_ID=${s.awsAccessKeyId}\nGITHUB_TOKEN=${s.githubToken}\nKIRO_API_KEY=${s.kiroApiKey}`,
              },
            },
          ],
          credentials: { aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: s.awsSessionToken },
        },
      }),
      secrets: [s.kiroApiKey, s.awsAccessKeyId, s.githubToken, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', s.awsSessionToken],
    },
    {
      name: 'a key that straddles the 256-character cut of "redacted" capture',
      record: sampleRecord(8, {
        clientRequest: { messages: [{ role: 'user', content: `${'context '.repeat(30).slice(0, 240)} ${SECRETS.refreshToken} and more text after it` }] },
        upstreamEvents: [{ type: 'assistantResponseEvent', content: `${'x'.repeat(250)}Bearer ${SECRETS.kiroApiKey}` }],
      }),
      secrets: [SECRETS.refreshToken, SECRETS.kiroApiKey],
    },
    {
      name: 'secret in the query string and the error message',
      record: sampleRecord(7, {
        path: `/v1/messages?key=${s.clientKey}`,
        error: { type: 'authentication_error', message: `invalid x-api-key ${s.clientKey}` },
      }),
      secrets: [s.clientKey],
    },
  ];
}
