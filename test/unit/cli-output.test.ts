// What the CLI writes for people and machines: colour and symbols only on a terminal that was not
// told otherwise (NO_COLOR, FORCE_COLOR, TERM=dumb), a spinner that cleans up after itself or one
// plain progress line, the request log line in both formats (never a secret), and the summary.
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import type { RequestRecord } from '../../src/traffic/traffic';
import type { AccountSnapshot } from '../../src/kiro/accounts/accounts-api';
import { requestLog, requestLogLine, streamLogger } from '../../src/cli/request-log';
import { formatSummary, type SummaryInput } from '../../src/cli/summary';
import { colorEnabled, startProgress, stripStyle, Style, unicodeEnabled } from '../../src/cli/terminal';

function sink(isTTY: boolean) {
  let text = '';
  return { isTTY, write: (t: string) => (text += t), text: () => text };
}

describe('colour and symbols', () => {
  it.each([
    [true, {}, true, true],
    [false, {}, false, false],
    [true, { NO_COLOR: '1' }, false, false],
    [true, { NO_COLOR: '' }, true, true],
    [true, { TERM: 'dumb' }, false, false],
    [false, { FORCE_COLOR: '1' }, true, false],
    [true, { FORCE_COLOR: '0' }, false, true],
    [true, { FORCE_COLOR: '1', NO_COLOR: '1' }, true, false],
  ])('a TTY=%s with %j: colour %s, symbols %s', (isTTY, env, color, unicode) => {
    expect(colorEnabled({ isTTY }, env)).toBe(color);
    expect(unicodeEnabled({ isTTY }, env)).toBe(unicode);
  });

  it('marks checks with ✓/✗ on a terminal and with ASCII words elsewhere', () => {
    expect(new Style(false, true).mark('pass')).toBe('✓');
    expect(new Style(false, true).mark('fail')).toBe('✗');
    expect(Style.plain.mark('pass')).toBe('[ok]');
    expect(Style.plain.mark('fail')).toBe('[FAIL]');
    expect(new Style(true, true).mark('pass')).toBe('\u001b[32m✓\u001b[39m');
    expect(stripStyle(new Style(true, false).status(503))).toBe('503');
    expect(new Style(true, false).status(503)).toContain('\u001b[31m');
  });
});

describe('progress', () => {
  it('writes one plain line when not on a terminal, and the outcome when done', () => {
    const out = sink(false);
    const progress = startProgress(out, {}, 'Checking');
    progress.update('ignored');
    progress.done('Checked.');
    expect(out.text()).toBe('Checking…\nChecked.\n');
  });

  it('on a terminal draws a spinner and clears its line when done', () => {
    const out = sink(true);
    const progress = startProgress(out, {}, 'Checking');
    progress.done();
    progress.done();
    expect(out.text().startsWith('\r\u001b[2K')).toBe(true);
    expect(out.text()).toContain('Checking');
    expect(out.text().endsWith('\r\u001b[2K')).toBe(true);
  });

  it('does not animate in CI even on a terminal', () => {
    const out = sink(true);
    startProgress(out, { CI: 'true' }, 'Checking').done();
    expect(out.text()).toBe('Checking…\n');
  });
});

const KEY = 'kb-request-log-key-0123456789abcdefgh';

function record(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: 'req_1',
    startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    method: 'POST',
    path: '/v1/messages',
    client: 'Claude Code',
    api: 'anthropic',
    stream: true,
    modelAsked: 'claude-sonnet-4-5',
    kiroModel: 'claude-sonnet-4.5',
    account: 'dev@example.com',
    attempts: [{ account: 'dev@example.com', status: 200, durationMs: 900 }],
    status: 200,
    stopReason: 'tool_use',
    ttftMs: 120,
    durationMs: 900,
    inputTokens: 1200,
    outputTokens: 34,
    credits: 0.5,
    repairs: [],
    flags: { streamed: true, retried: false, failedOver: false, truncated: false, repaired: false },
    ...overrides,
  };
}

describe('the request log', () => {
  it('has one JSON line per finished request with the request fields', () => {
    expect(requestLogLine(record())).toEqual({
      time: '2026-01-02T03:04:05.000Z',
      level: 'info',
      msg: 'request',
      id: 'req_1',
      method: 'POST',
      path: '/v1/messages',
      api: 'anthropic',
      client: 'Claude Code',
      stream: true,
      model: 'claude-sonnet-4-5',
      kiroModel: 'claude-sonnet-4.5',
      account: 'dev@example.com',
      status: 200,
      stopReason: 'tool_use',
      ttftMs: 120,
      durationMs: 900,
      inputTokens: 1200,
      outputTokens: 34,
      credits: 0.5,
      attempts: 1,
      retried: false,
      failedOver: false,
      repairs: 0,
      error: undefined,
    });
    expect(requestLogLine(record({ status: 429 })).level).toBe('warn');
    expect(requestLogLine(record({ status: 502 })).level).toBe('error');
  });

  it('writes only finished records, in either format, and scrubs secrets a record might carry', () => {
    const redactor = new Redactor();
    redactor.add(KEY);
    for (const format of ['json', 'pretty'] as const) {
      const out = sink(false);
      const log = requestLog({ stream: out, format, style: Style.plain, redactor });
      log.update(record({ status: undefined, durationMs: undefined }));
      log.update(record({ status: 400, error: { type: 'invalid_request_error', message: `bad key ${KEY}` } }));
      const lines = out.text().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(out.text()).not.toContain(KEY);
      if (format === 'json') expect((JSON.parse(lines[0]!) as { error: { message: string } }).error.message).toBe('bad key [REDACTED]');
      else
        expect(lines[0]).toBe(
          '03:04:05 400 POST /v1/messages claude-sonnet-4-5→claude-sonnet-4.5 stream tool_use 900ms ttft=120ms in=1200 out=34 credits=0.5 acct=dev@example.com Claude Code error=invalid_request_error: bad key [REDACTED]',
        );
    }
  });

  it("shows Kiro's prompt cache: cache=NN% on a pretty line, the numbers and the rate in JSON", () => {
    const cached = record({ inputTokens: 1200, cacheReadTokens: 900, cacheWriteTokens: 200 });
    expect(requestLogLine(cached)).toMatchObject({ inputTokens: 1200, cacheReadTokens: 900, cacheWriteTokens: 200, cacheHitRate: 0.75 });
    const out = sink(false);
    requestLog({ stream: out, format: 'pretty', style: Style.plain, redactor: new Redactor() }).update(cached);
    expect(out.text()).toContain(' in=1200 out=34 cache=75% credits=0.5 ');
    // Without Kiro's numbers there is no rate, not a made-up 0%.
    expect(requestLogLine(record())).not.toHaveProperty('cacheHitRate', expect.anything());
    const plain = sink(false);
    requestLog({ stream: plain, format: 'pretty', style: Style.plain, redactor: new Redactor() }).update(record());
    expect(plain.text()).not.toContain('cache=');
  });

  it('colours the status of a pretty line on a terminal', () => {
    const out = sink(true);
    requestLog({ stream: out, format: 'pretty', style: new Style(true, true), redactor: new Redactor() }).update(record({ status: 503 }));
    expect(out.text()).toContain('\u001b[31m503\u001b[39m POST');
  });

  it('is silent with --quiet', () => {
    const out = sink(false);
    requestLog({ stream: out, format: 'json', style: Style.plain, redactor: new Redactor(), quiet: true }).update(record());
    expect(out.text()).toBe('');
  });

  it('log messages follow the format too, from the chosen level up', () => {
    const out = sink(false);
    const redactor = new Redactor();
    redactor.add(KEY);
    const logger = streamLogger({ stream: out, format: 'json', style: Style.plain, redactor, minimum: 'info' });
    logger.debug('hidden');
    logger.warn(`key ${KEY}`, { detail: 1 });
    const line = JSON.parse(out.text()) as { level: string; msg: string; time: string };
    expect(line).toMatchObject({ level: 'warn', msg: 'key [REDACTED] {"detail":1}' });
  });
});

function account(overrides: Partial<AccountSnapshot> = {}): AccountSnapshot {
  return {
    id: 'acc_1',
    label: 'dev@example.com',
    kind: 'Social',
    source: 'sign-in',
    state: 'ready',
    active: true,
    credits: { remaining: 41.5, limit: 50, resetAt: Date.UTC(2026, 1, 1), usedThisSession: 0 },
    ...overrides,
  };
}

describe('the summary screen', () => {
  const base: SummaryInput = {
    url: 'http://127.0.0.1:8765',
    apiKey: KEY,
    keySource: 'env',
    configFile: '/home/u/.config/kiro-bridge/config.json',
    accounts: [
      account(),
      account({
        id: 'acc_2',
        label: 'other@example.com',
        active: false,
        state: 'needs_sign_in',
        stateReason: 'Kiro rejected the refresh token; sign in again',
        credits: undefined,
      }),
    ],
    strategy: 'priority',
    platform: 'linux',
    now: Date.UTC(2026, 0, 15),
  };

  it('shows the key only as a hint when it comes from the environment, and refers to the variable', () => {
    const text = formatSummary(base, Style.plain);
    expect(text).not.toContain(KEY);
    expect(text).toContain('API key   kb-…efgh  (KIRO_BRIDGE_API_KEY)');
    expect(text).toContain(`export ANTHROPIC_BASE_URL='http://127.0.0.1:8765'\n    export ANTHROPIC_AUTH_TOKEN="$KIRO_BRIDGE_API_KEY"`);
    expect(text).toContain(`export OPENAI_BASE_URL='http://127.0.0.1:8765/v1'\n    export OPENAI_API_KEY="$KIRO_BRIDGE_API_KEY"`);
    expect(text).toContain('Accounts  1*  dev@example.com  Social, sign-in  ready  41.50 of 50 credits left, resets 2026-02-01');
    expect(text).toContain('2   other@example.com  Social, sign-in  needs sign-in  credits: unknown');
    expect(text).toContain('Kiro rejected the refresh token; sign in again');
    expect(text).toContain('priority: requests stay on one account (*) until it cannot serve');
  });

  it('prints a generated key in full, since nothing else holds it', () => {
    const text = formatSummary({ ...base, keySource: 'generated' }, Style.plain);
    expect(text).toContain(`API key   ${KEY}`);
    expect(text).toContain(`export OPENAI_API_KEY='${KEY}'`);
  });

  it('writes PowerShell lines on Windows and warns about a non-loopback bind', () => {
    const text = formatSummary({ ...base, platform: 'win32', exposedHost: '0.0.0.0' }, Style.plain);
    expect(text).toContain(`$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:8765'`);
    expect(text).toContain('$env:ANTHROPIC_AUTH_TOKEN = $env:KIRO_BRIDGE_API_KEY');
    expect(text).toContain('listening on 0.0.0.0: anyone who can reach this machine and has the key can use your Kiro account');
  });
});
