// `kiro-bridge accounts …` in-process, against the fake upstream, with a temporary config folder
// and a temporary Kiro IDE cache folder. Output is captured; no token may appear in it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountsCommand, accountsFile, configDir, formatAccountsTable, type CliIO } from '../../src/cli/accounts';
import { KIRO_IDE_TOKEN_FILE } from '../../src/kiro/accounts/kiro-ide';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';

let upstream: FakeUpstream;
let home: string;
let out = '';
let err = '';
let secretsToType: string[] = [];

function io(env: NodeJS.ProcessEnv = {}): CliIO {
  return {
    out: (t) => (out += t),
    err: (t) => (err += t),
    readSecret: async () => secretsToType.shift() ?? '',
    env: { KIRO_BRIDGE_CONFIG_DIR: path.join(home, 'config'), KIRO_BRIDGE_UPSTREAM_BASE: upstream.baseUrl, ...env },
  };
}

function run(args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  out = '';
  err = '';
  return accountsCommand(args, io(env));
}

function allTokens(): string[] {
  return upstream.accounts.flatMap((a) => [a.refreshToken, ...a.accessTokensIssued, a.clientSecret ?? '', a.apiKey ?? '']).filter(Boolean);
}

function expectNoSecrets(text: string): void {
  for (const token of allTokens()) expect(text).not.toContain(token);
}

beforeEach(async () => {
  upstream = await startFakeUpstream({
    accounts: [
      { label: 'ide-user', usage: { limit: 50, used: 10 } },
      { label: 'second', usage: { limit: 1000, used: 1 } },
    ],
  });
  home = mkdtempSync(path.join(tmpdir(), 'kiro-cli-accounts-'));
  secretsToType = [];
});

afterEach(async () => {
  await upstream.close();
  rmSync(home, { recursive: true, force: true });
});

describe('kiro-bridge accounts', () => {
  it('imports the Kiro IDE login, lists it with credits and reset date, and keeps tokens out of the output', async () => {
    const cache = path.join(home, 'sso-cache');
    const fake = upstream.accounts[0]!;
    mkdirSync(cache, { recursive: true });
    writeFileSync(path.join(cache, KIRO_IDE_TOKEN_FILE), JSON.stringify(fake.kiroIdeTokenFile()));

    expect(await run(['import-kiro', '--cache-dir', cache])).toBe(0);
    expect(out).toMatch(/Imported the Kiro IDE login: ide-user@example\.com \(Social\)/);
    expect(out).toMatch(/Credits: 40 left of 50/);
    const file = accountsFile(io().env);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(fake.refreshToken);

    expect(await run(['list'])).toBe(0);
    expect(out).toMatch(/1\*\s+ide-user@example\.com\s+Social\s+kiro-ide\s+ready\s+40 \/ 50\s+\d{4}-\d{2}-01\s+acc_/);
    expectNoSecrets(out + err);
  });

  it('adds an account from the prompt, removes it by number, and lists KIRO_AUTH_TOKEN accounts too', async () => {
    const [, second] = upstream.accounts;
    secretsToType = [second!.refreshToken];
    expect(await run(['add', '--label', 'spare'])).toBe(0);
    expect(out).toMatch(/Added spare \(Social\): 999 of 1000 credits left/);

    const env = { KIRO_AUTH_TOKEN: upstream.kiroAuthToken([upstream.accounts[0]!]) };
    expect(await run(['list', '--json'], env)).toBe(0);
    const listed = JSON.parse(out) as { label: string; source: string; credits?: { remaining: number } }[];
    expect(listed.map((a) => [a.label, a.source, a.credits?.remaining])).toEqual([
      ['ide-user@example.com', 'env', 40],
      ['spare', 'manual', 999],
    ]);
    expectNoSecrets(out + err);

    expect(await run(['remove', '2'], env)).toBe(0);
    expect(out).toBe('Removed spare.\n');
    // An env account cannot be removed from here.
    expect(await run(['remove', '1'], env)).toBe(1);
    expect(err).toMatch(/comes from KIRO_AUTH_TOKEN/);
    expect(await run(['list', '--offline'])).toBe(0);
    expect(out).toMatch(/No Kiro accounts yet/);
  });

  it('reads a piped IdC login: token, client id, client secret', async () => {
    const idc = upstream.addAccount({ kind: 'idc', label: 'builder' });
    secretsToType = [idc.refreshToken, idc.clientId!, idc.clientSecret!];
    expect(await run(['add', '--idc'])).toBe(0);
    expect(out).toMatch(/Added builder@example\.com \(IdC\)/);
    expectNoSecrets(out + err);
  });

  it("adds a Kiro API key from the prompt (never a flag), lists KIRO_API_KEY first, and will not remove the variable's key", async () => {
    const saved = upstream.addAccount({ kind: 'apikey', label: 'key-one' });
    const fromEnv = upstream.addAccount({ kind: 'apikey', label: 'key-two' });
    secretsToType = [saved.apiKey!];
    expect(await run(['add', '--api-key', '--label', 'ci key'])).toBe(0);
    expect(out).toBe(`Added ci key (Kiro API key): 50 of 50 credits left.\nSaved in ${accountsFile(io().env)}.\n`);
    expect(upstream.refreshCount()).toBe(0);

    const env = { KIRO_API_KEY: fromEnv.apiKey! };
    expect(await run(['list'], env)).toBe(0);
    expect(out).toMatch(/1\*\s+key-two@example\.com\s+ApiKey\s+env\s+ready\s+50 \/ 50/);
    expect(out).toMatch(/2\s+ci key\s+ApiKey\s+manual\s+ready/);
    expect(await run(['remove', '1'], env)).toBe(1);
    expect(err).toMatch(/comes from KIRO_API_KEY; unset that variable to remove it/);
    expectNoSecrets(out + err);

    expect(await run(['add', '--api-key', '--refresh-token', 'x'])).toBe(2);
    expect(err).toMatch(/--api-key takes no refresh token or client id/);
    secretsToType = ['aor-not-a-key-at-all-000000000'];
    expect(await run(['add', '--api-key'])).toBe(1);
    expect(err).toMatch(/a Kiro API key starts with "ksk_"/);
    expect(await run(['list'], { KIRO_API_KEY: 'ksk_short' })).toBe(2);
    expect(err).toMatch(/KIRO_API_KEY: /);
  });

  it('shows usage with plan and models', async () => {
    secretsToType = [upstream.accounts[1]!.refreshToken];
    await run(['add']);
    expect(await run(['usage', '1'])).toBe(0);
    expect(out).toMatch(/1\. second@example\.com \(Social, manual\) — ready/);
    expect(out).toMatch(/plan: KIRO FREE/);
    expect(out).toMatch(/credits: 999 left of 1000, resets \d{4}-\d{2}-01/);
    expect(out).toMatch(/models: auto, claude-sonnet-4\.5/);
  });

  it('explains what is wrong instead of failing obscurely', async () => {
    expect(await run(['import-kiro', '--cache-dir', path.join(home, 'nowhere')])).toBe(1);
    expect(err).toMatch(/No Kiro IDE login found at .*kiro-auth-token\.json/);

    secretsToType = [`aor${'z'.repeat(100)}`];
    expect(await run(['add'])).toBe(1);
    expect(err).toMatch(/Kiro rejected this refresh token/);
    expect(err).not.toContain('z'.repeat(100));

    expect(await run(['remove', '7'])).toBe(2);
    expect(err).toMatch(/no account "7"/);
    expect(await run(['frobnicate'])).toBe(2);
    expect(await run(['list', '--bogus'])).toBe(2);
  });

  it('puts accounts.json in the platform config folder unless told otherwise', () => {
    expect(configDir({ KIRO_BRIDGE_CONFIG_DIR: '/x/y' })).toBe('/x/y');
    expect(configDir({})).toMatch(/kiro-bridge$/);
  });

  it('formats the states a user needs to act on', () => {
    const now = Date.UTC(2026, 4, 17);
    const table = formatAccountsTable(
      [
        {
          id: 'a',
          label: 'a@x',
          kind: 'Social',
          source: 'manual',
          state: 'quota_exhausted',
          until: Date.UTC(2026, 5, 1),
          active: false,
          stateReason: 'monthly credits used up',
        },
        {
          id: 'b',
          label: 'Social aor…x7Qz',
          kind: 'Social',
          source: 'env',
          state: 'needs_sign_in',
          active: false,
          stateReason: 'Kiro rejected the refresh token; sign in again',
        },
        { id: 'c', label: 'c@x', kind: 'IdC', source: 'kiro-ide', state: 'cooling_down', until: now + 90_000, active: true },
      ],
      now,
    );
    expect(table).toMatch(/quota exhausted until 2026-06-01/);
    expect(table).toMatch(/needs sign-in/);
    expect(table).toMatch(/cooling down \(back in 2 min\)/);
    expect(table).toMatch(/2: Kiro rejected the refresh token; sign in again/);
  });
});
