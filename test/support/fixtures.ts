// Real upstream captures live beside this repository in ../shared/kiro-fixtures and are read
// from there, never copied in. KIRO_FIXTURES_DIR overrides the location.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');

function locate(): string {
  const candidates = [
    process.env.KIRO_FIXTURES_DIR,
    path.resolve(repoRoot, '..', 'shared', 'kiro-fixtures'),
    '/work/shared/kiro-fixtures',
  ].filter((c): c is string => Boolean(c));
  const found = candidates.find((c) => existsSync(path.join(c, 'README.md')));
  if (!found) {
    throw new Error(`Kiro fixtures not found; looked in ${candidates.join(', ')}. Set KIRO_FIXTURES_DIR.`);
  }
  return found;
}

export const fixturesDir = locate();

export function fixtureBytes(name: string): Buffer {
  return readFileSync(path.join(fixturesDir, name));
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureBytes(name).toString('utf8')) as T;
}

export function fixtureNames(extension: string): string[] {
  return readdirSync(fixturesDir)
    .filter((f) => f.endsWith(extension))
    .sort();
}
