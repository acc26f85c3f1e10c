// Reading the Kiro IDE's login files from an injected folder (never the real ~/.aws), in the shapes
// the IDE writes them, and the watcher that follows the token file.
import { mkdtempSync, rmSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KIRO_IDE_TOKEN_FILE,
  KiroIdeImportError,
  KiroIdeWatcher,
  defaultKiroCacheDir,
  parseExpiresAt,
  readKiroIdeLogin,
} from '../../src/kiro/accounts/kiro-ide';
import { FakeAccount } from '../support/fake-upstream';

const NOW = Date.UTC(2026, 4, 17, 12, 0, 0);
const dirs: string[] = [];
const watchers: KiroIdeWatcher[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiro-ide-'));
  dirs.push(dir);
  return dir;
}

function writeToken(dir: string, content: unknown, bom = false): void {
  const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
  writeFileSync(path.join(dir, KIRO_IDE_TOKEN_FILE), `${bom ? '\ufeff' : ''}${text}`);
}

async function importError(dir: string): Promise<KiroIdeImportError> {
  const error = await readKiroIdeLogin(dir, NOW).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(KiroIdeImportError);
  return error as KiroIdeImportError;
}

afterEach(() => {
  for (const w of watchers.splice(0)) w.dispose();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('parseExpiresAt', () => {
  it('accepts both ISO forms the IDE writes, and epoch numbers', () => {
    expect(parseExpiresAt('2026-05-17T13:00:00.000Z')).toBe(Date.UTC(2026, 4, 17, 13));
    expect(parseExpiresAt('2026-05-17T13:00:00.123456+00:00')).toBe(Date.UTC(2026, 4, 17, 13, 0, 0, 123));
    expect(parseExpiresAt('2026-05-17T15:00:00+02:00')).toBe(Date.UTC(2026, 4, 17, 13));
    expect(parseExpiresAt(1_779_022_800)).toBe(1_779_022_800_000);
    expect(parseExpiresAt(1_779_022_800_000)).toBe(1_779_022_800_000);
    expect(parseExpiresAt('soon')).toBeUndefined();
    expect(parseExpiresAt(undefined)).toBeUndefined();
  });
});

describe('readKiroIdeLogin', () => {
  it('reads a Social login (with a UTF-8 BOM)', async () => {
    const fake = new FakeAccount({ label: 'ide' }, () => NOW);
    const dir = tempDir();
    writeToken(dir, fake.kiroIdeTokenFile(), true);
    const login = await readKiroIdeLogin(dir, NOW);
    expect(login).toMatchObject({
      kind: 'Social',
      refreshToken: fake.refreshToken,
      accessToken: fake.accessToken,
      profileArn: fake.profileArn,
      provider: 'Github',
      region: 'us-east-1',
      file: path.join(dir, KIRO_IDE_TOKEN_FILE),
    });
    expect(login.expiresAt).toBe(NOW + 3600_000);
  });

  it('reads an IdC login with its client registration beside it', async () => {
    const fake = new FakeAccount({ kind: 'idc', label: 'ide' }, () => NOW);
    const dir = tempDir();
    const file = { ...fake.kiroIdeTokenFile(), clientIdHash: 'abc123def456' };
    writeToken(dir, file);
    writeFileSync(
      path.join(dir, 'abc123def456.json'),
      JSON.stringify({ clientId: fake.clientId, clientSecret: fake.clientSecret, expiresAt: '2026-08-01T00:00:00.000000+00:00' }),
    );
    const login = await readKiroIdeLogin(dir, NOW);
    expect(login).toMatchObject({ kind: 'IdC', refreshToken: fake.refreshToken, clientId: fake.clientId, clientSecret: fake.clientSecret });
    expect(login.registrationExpiresAt).toBe(Date.UTC(2026, 7, 1));
  });

  it('says clearly when the file is missing', async () => {
    const dir = tempDir();
    const error = await importError(dir);
    expect(error.code).toBe('missing');
    expect(error.message).toMatch(/No Kiro IDE login found at .*kiro-auth-token\.json.*sign in/);
  });

  it('says clearly when an IdC registration is missing or expired', async () => {
    const fake = new FakeAccount({ kind: 'idc' }, () => NOW);
    const dir = tempDir();
    writeToken(dir, { ...fake.kiroIdeTokenFile(), clientIdHash: 'feedface' });
    const missing = await importError(dir);
    expect(missing.code).toBe('registration_missing');
    expect(missing.message).toMatch(/client registration .*feedface\.json is missing/);

    writeToken(dir, { ...fake.kiroIdeTokenFile() });
    expect((await importError(dir)).code).toBe('registration_missing');

    writeToken(dir, { ...fake.kiroIdeTokenFile(), clientIdHash: 'feedface' });
    writeFileSync(path.join(dir, 'feedface.json'), JSON.stringify({ clientId: 'id', clientSecret: 'secret-value-123', expiresAt: '2026-01-01T00:00:00Z' }));
    const expired = await importError(dir);
    expect(expired.code).toBe('registration_expired');
    expect(expired.message).toMatch(/expired on 2026-01-01/);
  });

  it('rejects broken files without quoting their content', async () => {
    const dir = tempDir();
    const secret = `aor${'s'.repeat(60)}`;
    writeToken(dir, `{"refreshToken": "${secret}", `);
    const broken = await importError(dir);
    expect(broken.code).toBe('invalid');
    expect(broken.message).not.toContain(secret);

    writeToken(dir, { accessToken: 'aoa-only' });
    expect((await importError(dir)).message).toMatch(/no refresh token/);

    writeToken(dir, { refreshToken: secret, authMethod: 'external_idp' });
    const external = await importError(dir);
    expect(external.code).toBe('unsupported');
    expect(external.message).not.toContain(secret);
  });

  it('defaults to ~/.aws/sso/cache', () => {
    expect(defaultKiroCacheDir('/home/someone')).toBe(path.join('/home/someone', '.aws', 'sso', 'cache'));
  });
});

describe('KiroIdeWatcher', () => {
  it('reports an atomic replace of the token file, not other files', async () => {
    const dir = tempDir();
    let calls = 0;
    watchers.push(new KiroIdeWatcher(dir, () => calls++, { debounceMs: 20, pollMs: 100 }));
    const tmp = path.join(dir, 'kiro-auth-token.json.tmp');
    writeFileSync(tmp, JSON.stringify({ refreshToken: 'aor-one' }));
    renameSync(tmp, path.join(dir, KIRO_IDE_TOKEN_FILE));
    await expect.poll(() => calls, { timeout: 3000 }).toBeGreaterThan(0);

    // Unrelated files in the folder do not count (once the replace's own events have settled).
    await new Promise((r) => setTimeout(r, 300));
    const before = calls;
    writeFileSync(path.join(dir, 'other.json'), '{}');
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(before);
  });

  it('starts following once the folder exists', async () => {
    const root = tempDir();
    const dir = path.join(root, 'cache');
    let calls = 0;
    watchers.push(new KiroIdeWatcher(dir, () => calls++, { debounceMs: 20, pollMs: 50 }));
    // Let the first poll record "no file" (a file already there when watching starts is no change).
    await new Promise((r) => setTimeout(r, 200));
    mkdirSync(dir);
    writeToken(dir, { refreshToken: 'aor-two' });
    await expect.poll(() => calls, { timeout: 3000 }).toBeGreaterThan(0);
  });
});
