// Child process for the crash test of FileSecretStore: rewrites one secret as fast as it can
// (`token-1`, `token-2`, …, each with a large padding so a write takes a while) until killed.
// Prints "ready" once the first write is on disk.
import { FileSecretStore } from '../../src/common/file-secret-store';

const file = process.argv[2]!;
const store = new FileSecretStore(file, { watch: false });
const padding = 'p'.repeat(512 * 1024);

async function main(): Promise<void> {
  for (let n = 1; ; n++) {
    await store.set('kiro-bridge/account/a', JSON.stringify({ refreshToken: `token-${n}`, padding }));
    if (n === 1) process.stdout.write('ready\n');
  }
}

void main();
