// The accounts service against the fake upstream's real refresh, usage and model endpoints, with
// an in-memory secret store: adding validates before saving, snapshots carry no secrets, removal
// and disabling reach the store, and accounts load back from it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySecretStore } from '../../src/common/secret-store';
import { Redactor } from '../../src/common/redact';
import { KiroError } from '../../src/kiro/errors';
import { KiroAccountsService } from '../../src/kiro/accounts/accounts-service';
import { INDEX_KEY, accountKey } from '../../src/kiro/accounts/account-store';
import type { KiroIdeFollower } from '../../src/kiro/accounts/ide-follower';
import { KIRO_IDE_TOKEN_FILE } from '../../src/kiro/accounts/kiro-ide';
import { deriveMachineId } from '../../src/kiro/http/identity';
import { startFakeUpstream, FREE_TIER_MODELS, nextMonthlyReset, usageLimitsBody, type FakeUpstream } from '../support/fake-upstream';

let upstream: FakeUpstream | undefined;
const services: KiroAccountsService[] = [];

let clock = Date.UTC(2026, 4, 17, 12, 0, 0);

function service(secrets = new MemorySecretStore(), redactor = new Redactor()): KiroAccountsService {
  const s = new KiroAccountsService({ secrets, redactor, upstreamBase: upstream!.baseUrl, watchKiroIde: false, now: () => clock });
  services.push(s);
  return s;
}

afterEach(async () => {
  clock = Date.UTC(2026, 4, 17, 12, 0, 0);
  for (const s of services.splice(0)) s.dispose();
  await upstream?.close();
  upstream = undefined;
});

describe('KiroAccountsService', () => {
  it('adds a Social account after a real refresh and usage check, and shows no secret', async () => {
    upstream = await startFakeUpstream({ accounts: [{ label: 'alice', usage: { limit: 50, used: 12.5 }, models: [...FREE_TIER_MODELS] }] });
    const fake = upstream.account;
    const secrets = new MemorySecretStore();
    const accounts = service(secrets);
    const snapshot = await accounts.add({ kind: 'Social', refreshToken: fake.refreshToken });

    expect(upstream.refreshCount(fake.refreshToken)).toBe(1);
    expect(upstream.requestsTo('usageLimits')).toHaveLength(1);
    expect(snapshot).toMatchObject({ label: 'alice@example.com', kind: 'Social', source: 'manual', state: 'ready', active: true });
    expect(snapshot.credits).toMatchObject({ remaining: 37.5, limit: 50, usedThisSession: 0, subscription: 'KIRO FREE' });
    expect(snapshot.credits!.resetAt).toBeGreaterThan(Date.now());
    expect(JSON.stringify(accounts.list())).not.toContain(fake.refreshToken);

    // Saved: an index plus one entry holding the token.
    const ids = JSON.parse((await secrets.get(INDEX_KEY))!).ids as string[];
    expect(ids).toEqual([snapshot.id]);
    const record = JSON.parse((await secrets.get(accountKey(snapshot.id)))!);
    expect(record).toMatchObject({ kind: 'Social', refreshToken: fake.refreshToken, email: 'alice@example.com', disabled: false });
    expect(record.machineId).toMatch(/^[0-9a-f]{64}$/);
    expect(record.machineId).toBe(deriveMachineId(undefined, fake.refreshToken));
    expect(snapshot.id).not.toContain(fake.refreshToken.slice(3, 12));

    // The model list arrives in the background.
    await upstream.waitFor((r) => r.endpoint === 'target');
    await new Promise((r) => setTimeout(r, 50));
    expect(accounts.get(snapshot.id)!.models).toEqual([...FREE_TIER_MODELS]);
  });

  it('refuses a rejected refresh token with a clear error and saves nothing', async () => {
    upstream = await startFakeUpstream();
    const secrets = new MemorySecretStore();
    const accounts = service(secrets);
    const bad = `aor${'x'.repeat(120)}`;
    const error = await accounts.add({ kind: 'Social', refreshToken: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KiroError);
    expect((error as KiroError).errorClass).toBe('needs_sign_in');
    expect((error as KiroError).message).toMatch(/rejected this refresh token/);
    expect((error as KiroError).message).not.toContain(bad);
    expect(secrets.keys()).toEqual([]);
    expect(accounts.list()).toEqual([]);
  });

  it('checks the input before calling Kiro', async () => {
    upstream = await startFakeUpstream();
    const accounts = service();
    await expect(accounts.add({ kind: 'IdC', refreshToken: 'aor-some-token-value' })).rejects.toThrow(/clientId and clientSecret/);
    await expect(accounts.add({ kind: 'Social', refreshToken: 'aorAbc...xyz' })).rejects.toThrow(/shortened/);
    expect(upstream.requests).toHaveLength(0);
  });

  it('adds an IdC account through the SSO-OIDC refresh', async () => {
    upstream = await startFakeUpstream({ accounts: [{ kind: 'idc', label: 'bob' }] });
    const fake = upstream.account;
    const accounts = service();
    const snapshot = await accounts.add({ kind: 'IdC', refreshToken: fake.refreshToken, clientId: fake.clientId, clientSecret: fake.clientSecret });
    expect(snapshot).toMatchObject({ kind: 'IdC', label: 'bob@example.com', state: 'ready' });
    expect(upstream.requestsTo('oidcToken')).toHaveLength(1);
  });

  it('adding the same login twice updates the first entry instead of duplicating it', async () => {
    upstream = await startFakeUpstream();
    const accounts = service();
    const first = await accounts.add({ kind: 'Social', refreshToken: upstream.account.refreshToken });
    const second = await accounts.add({ kind: 'Social', refreshToken: upstream.account.refreshToken, label: 'work' });
    expect(second.id).toBe(first.id);
    expect(accounts.list()).toHaveLength(1);
  });

  it('a login added again keeps its place in the pool', async () => {
    upstream = await startFakeUpstream({ accounts: [{ label: 'one' }, { label: 'two' }] });
    const [a, b] = upstream.accounts;
    const accounts = service();
    const one = await accounts.add({ kind: 'Social', refreshToken: a!.refreshToken });
    const two = await accounts.add({ kind: 'Social', refreshToken: b!.refreshToken });
    const again = await accounts.add({ kind: 'Social', refreshToken: a!.refreshToken, label: 'work' });
    expect(again.id).toBe(one.id);
    expect(accounts.list().map((s) => [s.id, s.label])).toEqual([
      [one.id, 'work'],
      [two.id, expect.any(String)],
    ]);
  });

  it('registers only the IDE tokens an account adopts, and forgets the access token an adopted one replaced', async () => {
    upstream = await startFakeUpstream({ accounts: [{ label: 'ide' }, { label: 'other' }], now: () => clock });
    const [ours, other] = upstream.accounts;
    const redactor = new Redactor();
    const accounts = service(new MemorySecretStore(), redactor);
    const dir = mkdtempSync(path.join(tmpdir(), 'kiro-ide-redactor-'));
    try {
      const write = (content: unknown) => writeFileSync(path.join(dir, KIRO_IDE_TOKEN_FILE), JSON.stringify(content));
      write(ours!.kiroIdeTokenFile());
      await accounts.importKiroIde({ cacheDir: dir });
      // What the file watcher calls when the IDE rewrites its token file.
      const ide = (accounts as unknown as { ide: KiroIdeFollower }).ide;
      const expiresAt = (hours: number) => new Date(clock + hours * 3600_000).toISOString();
      // Opaque values no redaction pattern knows: only the registered set hides them.
      const opaque = (what: string) => `opaque-${what}-0123456789abcdef`;

      // The IDE signed in to another login: nothing of it is ours to register.
      write({ ...other!.kiroIdeTokenFile(), accessToken: opaque('foreign-access'), refreshToken: opaque('foreign-refresh'), expiresAt: expiresAt(5) });
      await ide.onFileChange(dir);
      expect(redactor.text(`${opaque('foreign-access')} ${opaque('foreign-refresh')}`)).toBe(`${opaque('foreign-access')} ${opaque('foreign-refresh')}`);

      // Our login, refreshed by the IDE twice: each new access token replaces the one before.
      write({ ...ours!.kiroIdeTokenFile(), accessToken: opaque('access-1'), expiresAt: expiresAt(6) });
      await ide.onFileChange(dir);
      expect(redactor.text(opaque('access-1'))).toBe('[REDACTED]');
      write({ ...ours!.kiroIdeTokenFile(), accessToken: opaque('access-2'), expiresAt: expiresAt(7) });
      await ide.onFileChange(dir);
      expect(redactor.text(`${opaque('access-1')} ${opaque('access-2')}`)).toBe(`${opaque('access-1')} [REDACTED]`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads saved accounts back, keeps the disabled flag, and removes them from the store', async () => {
    upstream = await startFakeUpstream({ accounts: [{ label: 'one' }, { label: 'two' }] });
    const [a, b] = upstream.accounts;
    const secrets = new MemorySecretStore();
    const first = service(secrets);
    const one = await first.add({ kind: 'Social', refreshToken: a!.refreshToken });
    const two = await first.add({ kind: 'Social', refreshToken: b!.refreshToken });
    await first.setDisabled(two.id, true);
    expect(first.get(two.id)!.state).toBe('disabled');

    const second = service(secrets);
    await second.start();
    expect(second.list().map((s) => [s.id, s.state])).toEqual([
      [one.id, 'ready'],
      [two.id, 'disabled'],
    ]);
    await second.remove(one.id);
    expect(second.list().map((s) => s.id)).toEqual([two.id]);
    expect(await secrets.get(accountKey(one.id))).toBeUndefined();
    expect(JSON.parse((await secrets.get(INDEX_KEY))!).ids).toEqual([two.id]);
  });

  it('tells listeners about changes', async () => {
    upstream = await startFakeUpstream();
    const accounts = service();
    let calls = 0;
    accounts.onDidChange(() => calls++);
    await accounts.add({ kind: 'Social', refreshToken: upstream.account.refreshToken });
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toBeGreaterThan(0);
  });

  it('two windows share one login: a rotation in one is adopted by the other, without a second refresh', async () => {
    upstream = await startFakeUpstream({ accounts: [{ rotateRefreshToken: true }], now: () => clock });
    const fake = upstream.account;
    const secrets = new MemorySecretStore();
    const first = service(secrets);
    const { id } = await first.add({ kind: 'Social', refreshToken: fake.refreshToken });
    await first.flush();
    const second = service(secrets);
    await second.start();
    const [a] = first.pool.entries();
    const [b] = second.pool.entries();
    expect(fake.refreshes).toBe(1);

    clock += 2 * 3600_000;
    await a!.account.getToken();
    expect(fake.refreshes).toBe(2);
    await first.flush();
    // The other window's token expired too: before refreshing it reads the saved entry and takes
    // the new refresh and access tokens (a refresh of its own would use the rotated-away token).
    const token = await b!.account.getToken();
    expect(fake.refreshes).toBe(2);
    expect(token.value).toBe(fake.accessToken);
    expect(b!.account.tokens.refreshToken).toBe(fake.refreshToken);
    expect(second.get(id)!.state).toBe('ready');
  });

  it('never adopts back a refresh token it has moved past (a stale copy in the store)', async () => {
    upstream = await startFakeUpstream({ accounts: [{ rotateRefreshToken: true }], now: () => clock });
    const fake = upstream.account;
    const secrets = new MemorySecretStore();
    const accounts = service(secrets);
    const { id } = await accounts.add({ kind: 'Social', refreshToken: fake.refreshToken });
    const [entry] = accounts.pool.entries();
    const original = fake.refreshToken;
    clock += 2 * 3600_000;
    await entry!.account.getToken();
    await accounts.flush();
    const rotated = fake.refreshToken;
    expect(rotated).not.toBe(original);
    // A stale writer puts the old token back.
    const record = JSON.parse((await secrets.get(accountKey(id)))!);
    await secrets.set(accountKey(id), JSON.stringify({ ...record, refreshToken: original, accessToken: undefined }));
    await new Promise((r) => setTimeout(r, 20));
    expect(entry!.account.tokens.refreshToken).toBe(rotated);
    clock += 2 * 3600_000;
    await entry!.account.getToken();
    expect(accounts.get(id)!.state).toBe('ready');
    expect(upstream.requestsTo('refreshToken').filter((r) => r.status !== 200)).toHaveLength(0);
  });

  it('an account whose usage shows nothing left is marked exhausted until the reset, unless paid overage is on', async () => {
    upstream = await startFakeUpstream({
      accounts: [
        { label: 'spent', usage: { limit: 50, used: 50 } },
        { label: 'overage', usage: { limit: 50, used: 50 } },
      ],
      now: () => clock,
    });
    const [spent, overage] = upstream.accounts;
    const accounts = service();
    const first = await accounts.add({ kind: 'Social', refreshToken: spent!.refreshToken });
    expect(first).toMatchObject({ state: 'quota_exhausted', until: nextMonthlyReset(clock) * 1000 });
    expect(first.credits).toMatchObject({ remaining: 0, limit: 50 });

    overage!.scriptNextUsage({ status: 200, body: { ...usageLimitsBody(overage!, clock), overageConfiguration: { overageStatus: 'ENABLED' } } });
    const second = await accounts.add({ kind: 'Social', refreshToken: overage!.refreshToken });
    expect(second).toMatchObject({ state: 'ready' });
  });
});
