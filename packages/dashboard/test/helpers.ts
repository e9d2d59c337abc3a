import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Builds the browser bundle into dist/public (esbuild: a fraction of a second), so tests serve current code. */
export function bundleAssets(): void {
  execFileSync(process.execPath, [join(__dirname, '..', 'scripts', 'bundle.mjs')], { stdio: 'inherit' });
}

/** Polls until `predicate` holds; fails after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
