import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueueError } from '@queue/core';

/** The browser bundle is missing: the package was not built (`pnpm -r build` makes dist/public). */
export class DashboardAssetsError extends QueueError {
  override readonly code = 'DASHBOARD_ASSETS';
  constructor(message: string) {
    super(message);
    this.name = 'DashboardAssetsError';
  }
}

/** The page's script and style sheet, read once. */
export interface Assets {
  js: Buffer;
  css: Buffer;
}

/** dist/public beside the compiled server, or (running from src/, in tests) the package's dist/public. */
function assetsDir(): string {
  const candidates = [join(__dirname, '..', 'public'), join(__dirname, '..', '..', 'dist', 'public')];
  const found = candidates.find((dir) => existsSync(join(dir, 'app.js')));
  if (!found)
    throw new DashboardAssetsError(
      `the dashboard's browser bundle is missing (looked in ${candidates.join(', ')}): build @queue/dashboard`,
    );
  return found;
}

export function loadAssets(): Assets {
  const dir = assetsDir();
  return { js: readFileSync(join(dir, 'app.js')), css: readFileSync(join(dir, 'app.css')) };
}
