import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { App } from '@queue/core';
import { CliUsageError } from './cli-error';

function looksLikeApp(value: unknown): value is App {
  // Duck typing as well as instanceof: the module may have loaded its own copy of @queue/core.
  return (
    value instanceof App ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as App).worker === 'function' &&
      typeof (value as App).sendTask === 'function')
  );
}

/** Where to load `spec` from: a file path (relative to cwd) or a package/module name. */
function resolveModule(spec: string): string {
  const asPath = isAbsolute(spec) ? spec : resolve(process.cwd(), spec);
  if (spec.startsWith('.') || isAbsolute(spec) || existsSync(asPath)) {
    if (!existsSync(asPath)) throw new CliUsageError(`--app: no such file: ${spec}`);
    if (/\.[cm]?ts$/.test(asPath)) {
      throw new CliUsageError(
        `--app: ${spec} is TypeScript; build it and point --app at the compiled .js file`,
      );
    }
    return asPath;
  }
  try {
    return require.resolve(spec, { paths: [process.cwd()] });
  } catch (error) {
    throw new CliUsageError(`--app: cannot find module '${spec}' (from ${process.cwd()})`, { cause: error });
  }
}

/** The App found by `--app`, and where it came from (threads load the same module themselves). */
export interface LoadedApp {
  app: App;
  module: string;
  exportName: string | undefined;
}

/** The App of the module named by `--app` (see `loadAppModule`). */
export function loadApp(spec: string): App {
  return loadAppModule(spec).app;
}

/**
 * Loads the module named by `--app` and returns its App: `module:exportName`, else the export named `app`,
 * the default export, or the only App among the exports (as Celery's `-A proj`).
 */
export function loadAppModule(spec: string): LoadedApp {
  if (!spec.trim()) throw new CliUsageError('--app: empty module name');
  const [moduleSpec, exportName] = spec.split(/:(?=[A-Za-z_$][\w$]*$)/);
  const path = resolveModule(moduleSpec!);
  let exports: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's module, chosen at run time
    exports = require(path) as Record<string, unknown>;
  } catch (error) {
    throw new CliUsageError(`--app: loading ${moduleSpec} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (exportName) {
    const named = exports[exportName];
    if (!looksLikeApp(named))
      throw new CliUsageError(`--app: ${moduleSpec} exports no App named '${exportName}'`);
    return { app: named, module: path, exportName };
  }
  const candidates = [exports.app, exports.default, ...Object.values(exports)].filter(looksLikeApp);
  const unique = [...new Set(candidates)];
  if (unique.length === 0) {
    throw new CliUsageError(
      `--app: ${moduleSpec} exports no App (export one as 'app', or name it: --app ${moduleSpec}:myApp)`,
    );
  }
  if (unique.length > 1 && !looksLikeApp(exports.app) && !looksLikeApp(exports.default)) {
    throw new CliUsageError(
      `--app: ${moduleSpec} exports several Apps; name one: --app ${moduleSpec}:<export>`,
    );
  }
  const app = unique[0]!;
  const name = Object.keys(exports).find((key) => exports[key] === app);
  return { app, module: path, exportName: name };
}
