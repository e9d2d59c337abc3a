import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from '@queue/core';
import { addPluginSearchPath } from '@queue/core/transport';
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

// TypeScript turns import() into require() in CommonJS output: this keeps a real one, for ES modules.
const dynamicImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<Record<string, unknown>>;

/**
 * The module's exports: require() first (CommonJS, and ES modules without top-level await on Node ≥ 20.19),
 * import() for the ES modules require() refuses (top-level await, or an older Node).
 */
async function importModule(path: string): Promise<Record<string, unknown>> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's module, chosen at run time
    return require(path) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_REQUIRE_ASYNC_MODULE' && code !== 'ERR_REQUIRE_ESM') throw error;
  }
  return dynamicImport(pathToFileURL(path).href);
}

/** The App found by `--app`, and where it came from (threads load the same module themselves). */
export interface LoadedApp {
  app: App;
  module: string;
  exportName: string | undefined;
}

/** The App of the module named by `--app` (see `loadAppModule`). */
export async function loadApp(spec: string): Promise<App> {
  return (await loadAppModule(spec)).app;
}

/**
 * Loads the module named by `--app` and returns its App: `module:exportName`, else the export named `app`,
 * the default export, or the only App among the exports (as Celery's `-A proj`).
 */
export async function loadAppModule(spec: string): Promise<LoadedApp> {
  if (!spec.trim()) throw new CliUsageError('--app: empty module name');
  const [moduleSpec, exportName] = spec.split(/:(?=[A-Za-z_$][\w$]*$)/);
  const path = resolveModule(moduleSpec!);
  // The app's own dependencies (@queue/redis, @queue/postgres) live beside it, not beside the CLI.
  addPluginSearchPath(dirname(path));
  let exports: Record<string, unknown>;
  try {
    exports = await importModule(path);
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
