// Keeps a KIRO_AUTH_TOKEN file current when Kiro rotates an account's refresh token: the old token
// may stop working, so a restart with the stale file would need a new sign-in. Only the rotated
// account's `refreshToken` (and its `machineId`, so the device identity survives the rotation)
// change; every other field and account is written back as it was. The write is atomic
// (write-file-atomic: temp file + rename) and owner-only.
import { readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';

export async function persistRotatedRefreshToken(file: string, index: number, refreshToken: string, machineId: string): Promise<void> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const entry = list[index];
  if (!entry || typeof entry !== 'object') throw new Error(`account #${index + 1} is no longer in ${file}`);
  const record = entry as Record<string, unknown>;
  record.refreshToken = refreshToken;
  record.machineId ??= machineId;
  const text = `${JSON.stringify(Array.isArray(parsed) ? list : list[0], null, 2)}\n`;
  await writeFileAtomic(file, text, { mode: 0o600 });
}
