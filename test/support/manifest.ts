// The extension's package.json, as the unit tests read it.
import { readFileSync } from 'node:fs';

export interface Manifest {
  contributes: {
    commands: { command: string }[];
    configuration: { properties: Record<string, { default?: unknown; scope?: string; enum?: string[] }> };
  };
}

export const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Manifest;

/** Every setting's default as the manifest declares it (what VS Code gives a setting nobody set). */
export function settingDefaults(): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(manifest.contributes.configuration.properties)) defaults[key] = entry.default;
  return defaults;
}
