// Temporary folders of the e2e suite, each recording the test process that owns it and the
// process group (code-server) running in it, so that a later run can clean up after a test
// process that died without doing so (a worker killed on a timeout never runs its exit hooks).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const prefix = 'kiro-e2e-';
const ownerFile = 'owner.json';

interface Owner {
  /** The test process that made the folder. */
  owner: number;
  /** The process group running in it, while it runs. */
  pgid?: number;
}

/** Makes `<tmp>/kiro-e2e-<name>-XXXXXX`, owned by this process. */
export function ownedTempDir(name: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), `${prefix}${name}-`));
  recordProcessGroup(root, undefined);
  return root;
}

/** Records the process group now running in an owned folder (undefined once it has stopped). */
export function recordProcessGroup(root: string, pgid: number | undefined): void {
  const owner: Owner = { owner: process.pid, ...(pgid === undefined ? {} : { pgid }) };
  writeFileSync(path.join(root, ownerFile), JSON.stringify(owner));
}

/**
 * Kills the process groups and deletes the folders of owners that are gone. Folders of live test
 * processes, e.g. a second e2e run on the same machine, are left alone. Returns what it removed.
 */
export function reapOrphans(): string[] {
  const reaped: string[] = [];
  for (const name of readdirSync(os.tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const root = path.join(os.tmpdir(), name);
    let owner: Owner;
    try {
      owner = JSON.parse(readFileSync(path.join(root, ownerFile), 'utf8')) as Owner;
    } catch {
      continue; // being created right now, or not ours
    }
    if (processExists(owner.owner)) continue;
    if (owner.pgid !== undefined && processGroupExists(owner.pgid)) process.kill(-owner.pgid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
    reaped.push(root);
  }
  return reaped;
}

/** Whether any process of the group is left (signal 0 only checks; ESRCH means none). */
export function processGroupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
