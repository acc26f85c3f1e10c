// Real upstream captures, kept in test/fixtures/kiro (test/fixtures/kiro/README.md says where
// each one came from). Tests read them only from there, so a fresh clone is enough to run them.
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

export const fixturesDir = path.resolve(__dirname, '..', 'fixtures', 'kiro');

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
