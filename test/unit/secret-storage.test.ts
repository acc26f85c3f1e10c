// Where accounts are kept: the CLI's 0600 JSON file (atomic writes, survives a kill mid-write,
// follows outside changes) and the account store on top of any SecretStore (write order, broken
// entries, change events).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore, SecretFileError } from '../../src/common/file-secret-store';
import { MemorySecretStore } from '../../src/common/secret-store';
import { AccountStore, INDEX_KEY, accountKey, type StoredAccount } from '../../src/kiro/accounts/account-store';

const dirs: string[] = [];
const disposables: { dispose(): void }[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kiro-secrets-'));
  dirs.push(dir);
  return dir;
}

function fileStore(file: string, options: ConstructorParameters<typeof FileSecretStore>[1] = {}): FileSecretStore {
  const store = new FileSecretStore(file, { pollMs: 50, ...options });
  disposables.push(store);
  return store;
}

afterEach(() => {
  for (const d of disposables.splice(0)) d.dispose();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('FileSecretStore', () => {
  it('keeps secrets in an owner-only file in an owner-only folder', async () => {
    const file = path.join(tempDir(), 'nested', 'accounts.json');
    const store = fileStore(file);
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', 'value-1');
    await store.set('other', 'value-2');
    await store.delete('other');
    expect(await store.get('k')).toBe('value-1');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ v: 1, secrets: { k: 'value-1' } });
    // A second store on the same file reads the same.
    expect(await fileStore(file, { watch: false }).get('k')).toBe('value-1');
  });

  it('tightens a file that was created readable by others', async () => {
    const file = path.join(tempDir(), 'accounts.json');
    writeFileSync(file, JSON.stringify({ v: 1, secrets: {} }), { mode: 0o644 });
    await fileStore(file, { watch: false }).set('k', 'v');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a failed write leaves the previous file whole, and the store still works', async () => {
    const file = path.join(tempDir(), 'accounts.json');
    let fail = false;
    const store = fileStore(file, {
      watch: false,
      write: async (target, text, options) => {
        if (fail) {
          // What a crash mid-write leaves: a partial temp file beside the real one, no rename.
          writeFileSync(`${target}.tmp-crash`, text.slice(0, text.length / 2));
          throw new Error('EIO: simulated crash during write');
        }
        writeFileSync(target, text, options);
      },
    });
    await store.set('token', 'old-token-value');
    fail = true;
    await expect(store.set('token', 'new-token-value')).rejects.toThrow(/simulated crash/);
    expect(JSON.parse(readFileSync(file, 'utf8')).secrets.token).toBe('old-token-value');
    expect(await fileStore(file, { watch: false }).get('token')).toBe('old-token-value');
    fail = false;
    await store.set('token', 'new-token-value');
    expect(await fileStore(file, { watch: false }).get('token')).toBe('new-token-value');
  });

  it('survives being killed in the middle of writes: the file always holds one whole record', async () => {
    const file = path.join(tempDir(), 'accounts.json');
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'support', 'secret-writer-child.ts'), file], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      // Let it rewrite a few times, then kill it without warning at an arbitrary point.
      await new Promise((r) => setTimeout(r, 30 + round * 40));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const store = fileStore(file, { watch: false });
      const value = JSON.parse((await store.get('kiro-bridge/account/a'))!);
      expect(value.refreshToken).toMatch(/^token-\d+$/);
      expect(value.padding).toHaveLength(512 * 1024);
    }
  });

  it('reports changes made by another process, key by key, and not its own', async () => {
    const file = path.join(tempDir(), 'accounts.json');
    const mine = fileStore(file);
    await mine.set('a', '1');
    await mine.set('b', '2');
    const seen: string[] = [];
    mine.onDidChange((key) => seen.push(key));
    await mine.set('a', 'mine');
    // Another process rewrites the file: b changes, c appears, a is gone.
    writeFileSync(file, JSON.stringify({ v: 1, secrets: { b: 'theirs', c: '3' } }));
    await expect.poll(() => [...seen].sort(), { timeout: 3000 }).toEqual(['a', 'b', 'c']);
    expect(await mine.get('b')).toBe('theirs');
  });

  it("reports another process's change even when its own write reads the file before the watch does", async () => {
    const file = path.join(tempDir(), 'accounts.json');
    // No watch: only the store's own read-modify-write can notice the outside change.
    const mine = fileStore(file, { watch: false });
    await mine.set('a', '1');
    const seen: string[] = [];
    mine.onDidChange((key) => seen.push(key));
    writeFileSync(file, JSON.stringify({ v: 1, secrets: { a: '1', added: 'elsewhere' } }));
    await mine.set('b', 'mine');
    expect(seen).toEqual(['added']);
    expect(JSON.parse(readFileSync(file, 'utf8')).secrets).toEqual({ a: '1', added: 'elsewhere', b: 'mine' });
  });

  it('refuses to overwrite a file it cannot read', async () => {
    const file = path.join(tempDir(), 'accounts.json');
    writeFileSync(file, '{ not json');
    const store = fileStore(file, { watch: false });
    await expect(store.set('k', 'v')).rejects.toThrow(SecretFileError);
    expect(readFileSync(file, 'utf8')).toBe('{ not json');
  });
});

function record(id: string, over: Partial<StoredAccount> = {}): StoredAccount {
  return { v: 1, id, kind: 'Social', source: 'manual', refreshToken: `aor-${id}-token`, machineId: 'f'.repeat(64), disabled: false, addedAt: 1, ...over };
}

describe('AccountStore', () => {
  it('writes an account before listing it, and unlists before deleting', async () => {
    const secrets = new MemorySecretStore();
    const order: string[] = [];
    secrets.onDidChange((key) => order.push(key));
    const store = new AccountStore(secrets);
    disposables.push(store);
    await store.save(record('a'));
    await store.remove('a');
    expect(order).toEqual([accountKey('a'), INDEX_KEY, INDEX_KEY, accountKey('a')]);
  });

  it('updates one account at a time, so concurrent changes are not lost', async () => {
    const store = new AccountStore(new MemorySecretStore());
    disposables.push(store);
    await store.save(record('a'));
    await Promise.all([
      store.update('a', (r) => ({ ...r, label: 'work' })),
      store.update('a', (r) => ({ ...r, email: 'me@example.com' })),
      store.update('a', (r) => ({ ...r, disabled: true })),
    ]);
    expect(await store.get('a')).toMatchObject({ label: 'work', email: 'me@example.com', disabled: true });
    expect(await store.update('missing', (r) => r)).toBeUndefined();
  });

  it('skips entries that do not read back whole, listing them as broken', async () => {
    const secrets = new MemorySecretStore();
    const store = new AccountStore(secrets);
    disposables.push(store);
    await store.save(record('good'));
    await store.save(record('bad'));
    await secrets.set(accountKey('bad'), '{"id":"bad"');
    await store.save(record('other-id'));
    await secrets.set(accountKey('other-id'), JSON.stringify(record('someone-else')));
    const { accounts, broken } = await store.list();
    expect(accounts.map((a) => a.id)).toEqual(['good']);
    expect(broken).toEqual(['bad', 'other-id']);
  });

  it('reports index and account changes', async () => {
    const secrets = new MemorySecretStore();
    const store = new AccountStore(secrets);
    disposables.push(store);
    const changes: unknown[] = [];
    store.onDidChange((c) => changes.push(c));
    await store.save(record('a'));
    await secrets.set('unrelated', 'x');
    expect(changes).toEqual([{ kind: 'account', id: 'a' }, { kind: 'index' }]);
  });
});
