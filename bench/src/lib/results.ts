import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** bench/results (this file is bench/dist/lib/results.js once built). */
export const RESULTS_DIR = resolve(__dirname, '..', '..', 'results');

/**
 * Writes `value` as `bench/results/<kind>-<ISO date>.json` (colons made dashes, so the name is valid on
 * every file system) and returns its path relative to the working directory.
 */
export function writeResult(kind: string, value: unknown, at = new Date()): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${kind}-${at.toISOString().replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return relative(process.cwd(), file) || file;
}
