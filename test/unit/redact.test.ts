// The Redactor's nets, one secret shape at a time, and the ordinary text they must leave alone.

import { describe, expect, it } from 'vitest';
import { maskSecret, REDACTED, Redactor } from '../../src/common/redact';
import { SECRETS } from '../webview/samples';

const r = new Redactor();

describe('Redactor.text', () => {
  it.each([
    ['Authorization header line', `Authorization: Bearer ${SECRETS.accessToken}`, SECRETS.accessToken],
    ['Bearer token in prose', `sent Bearer ${SECRETS.openaiKey} upstream`, SECRETS.openaiKey],
    ['x-api-key header line with a shapeless key', `x-api-key: ${SECRETS.shapelessKey}\r\nhost: x`, SECRETS.shapelessKey],
    ['Cookie header line', `Cookie: ${SECRETS.cookie}`, 'csrftoken=Xy7Zq2Wv9'],
    ['Kiro access token', `token=${SECRETS.accessToken}`, SECRETS.accessToken],
    ['Kiro refresh token', `rotated to ${SECRETS.refreshToken}`, SECRETS.refreshToken],
    ['IdC client secret (JWT shape)', `secret ${SECRETS.idcClientSecret}`, SECRETS.idcClientSecret],
    ['Anthropic key', SECRETS.anthropicKey, SECRETS.anthropicKey],
    ['OpenAI project key', SECRETS.openaiKey, SECRETS.openaiKey],
    ['our client key', SECRETS.clientKey, SECRETS.clientKey],
    ['Kiro API key', `KIRO_API_KEY=${SECRETS.kiroApiKey}`, SECRETS.kiroApiKey],
    ['short Kiro API key', 'the key ksk_a1B2c3D4 was refused', 'ksk_a1B2c3D4'],
    ['Kiro API key in its JSON field', '{"auth":"ApiKey","kiroApiKey":"opaque-value-1"}', 'opaque-value-1'],
    ['Kiro API key as a bearer with its token type', `authorization: Bearer ${SECRETS.kiroApiKey}\ntokentype: API_KEY`, SECRETS.kiroApiKey],
    ['AWS access key id', `AWS_ACCESS_KEY_ID=${SECRETS.awsAccessKeyId}`, SECRETS.awsAccessKeyId],
    ['temporary AWS key id', 'ASIAY34FZKBOKMUTVV7A', 'ASIAY34FZKBOKMUTVV7A'],
    ['GitHub token', `GITHUB_TOKEN=${SECRETS.githubToken}`, SECRETS.githubToken],
    ['secret JSON field', `{"refreshToken":"${SECRETS.shapelessKey}","region":"us-east-1"}`, SECRETS.shapelessKey],
    ['secret JSON field escaped once', `"{\\"clientSecret\\":\\"${SECRETS.shapelessKey}\\"}"`, SECRETS.shapelessKey],
    ['header name as JSON field', `{"x-api-key": "${SECRETS.shapelessKey}"}`, SECRETS.shapelessKey],
    ['query parameter', `/v1/messages?api_key=${SECRETS.shapelessKey}&x=1`, SECRETS.shapelessKey],
  ])('removes %s', (_name, input, secret) => {
    const out = r.text(input);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it('keeps the surrounding structure', () => {
    expect(r.text(`{"refreshToken":"abc12345","region":"us-east-1"}`)).toBe(`{"refreshToken":"${REDACTED}","region":"us-east-1"}`);
    expect(r.text('x-api-key: abc\nanthropic-version: 2023-06-01')).toBe(`x-api-key: ${REDACTED}\nanthropic-version: 2023-06-01`);
  });

  it('is idempotent', () => {
    const once = r.text(`Authorization: Bearer ${SECRETS.accessToken}\nCookie: ${SECRETS.cookie}`);
    expect(r.text(once)).toBe(once);
  });

  it('leaves ordinary request text alone', () => {
    const ordinary = [
      '{"model":"claude-sonnet-4-5","max_tokens":8192,"stream":true}',
      'The tokenizer counts input_tokens and output_tokens separately.',
      'Use the askToken helper; see docs/auth.md for details.',
      'conversationId c0ffee00-0000-4000-8000-000000000001, modelId claude-sonnet-4.5',
      'arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK',
    ];
    for (const text of ordinary) expect(r.text(text)).toBe(text);
  });

  it('removes registered secrets of any shape', () => {
    const redactor = new Redactor();
    redactor.add('plain-looking-1');
    expect(redactor.text('value plain-looking-1 here')).toBe(`value ${REDACTED} here`);
    redactor.remove('plain-looking-1');
    expect(redactor.text('value plain-looking-1 here')).toBe('value plain-looking-1 here');
  });
});

describe('Redactor.value', () => {
  it('redacts secret-named fields whatever their value looks like', () => {
    const out = r.value({
      headers: { Authorization: 'x', 'X-Goog-Api-Key': 'y', 'anthropic-version': '2023-06-01' },
      credentials: { aws_secret_access_key: 'z', secretAccessKey: 'w', clientAssertion: 'v', tokenType: 'Bearer', kiroApiKey: 'u', tokentype: 'API_KEY' },
    });
    expect(out).toEqual({
      headers: { Authorization: REDACTED, 'X-Goog-Api-Key': REDACTED, 'anthropic-version': '2023-06-01' },
      credentials: {
        aws_secret_access_key: REDACTED,
        secretAccessKey: REDACTED,
        clientAssertion: REDACTED,
        tokenType: 'Bearer',
        kiroApiKey: REDACTED,
        tokentype: 'API_KEY',
      },
    });
  });

  it('redacts values that follow secret header names in header lists', () => {
    const out = r.value({
      rawHeaders: ['Host', '127.0.0.1:8765', 'X-Api-Key', 'shapeless', 'Cookie', 'a=b'],
      entries: [
        ['authorization', 'opaque'],
        ['content-type', 'application/json'],
      ],
    });
    expect(out).toEqual({
      rawHeaders: ['Host', '127.0.0.1:8765', 'X-Api-Key', REDACTED, 'Cookie', REDACTED],
      entries: [
        ['authorization', REDACTED],
        ['content-type', 'application/json'],
      ],
    });
  });

  it('does not touch ordinary string lists', () => {
    const list = ['end_turn', 'max_tokens', 'tool_use', 'stop_sequence'];
    expect(r.value({ stop: list })).toEqual({ stop: list });
  });

  it('survives cycles and binary data', () => {
    const a: Record<string, unknown> = { name: 'a', bytes: new Uint8Array(4) };
    a.self = a;
    expect(r.value(a)).toEqual({ name: 'a', bytes: '[4 bytes]', self: '[Circular]' });
  });
});

describe('maskSecret', () => {
  it('shows enough to tell two apart, never enough to use', () => {
    expect(maskSecret(SECRETS.refreshToken)).toBe('aor…z7w6');
    expect(maskSecret(SECRETS.kiroApiKey)).toBe('ksk…kiro');
  });
});
