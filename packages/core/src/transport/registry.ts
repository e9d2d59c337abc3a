import { dirname } from 'node:path';
import { ConfigurationError } from '../errors';
import type { ResultBackend } from '../result/result-backend';
import type { Transport } from './transport';

/** Everything a transport factory may use. */
export interface TransportContext {
  /** Transport-specific settings from `AppOptions.transportOptions`. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** Everything a result backend factory may use. */
export interface ResultBackendContext {
  /** The App's transport (the rpc backend shares its connection). */
  readonly transport: Transport;
  /**
   * The App's `transportOptions` (backends read the keys they share with the transport, e.g.
   * `resultCacheSize`).
   */
  readonly options: Readonly<Record<string, unknown>>;
  /** Seconds a stored result lives (`AppOptions.resultExpires`); null: until forgotten. */
  readonly resultExpires: number | null;
}

/** Makes the transport for an App's broker URL (the URL as the App was given it). */
export type TransportFactory = (url: string, context: TransportContext) => Transport;
/** Makes the result backend for an App's result backend URL (the URL as the App was given it). */
export type ResultBackendFactory = (url: string, context: ResultBackendContext) => ResultBackend;

const transports = new Map<string, TransportFactory>();
const backends = new Map<string, ResultBackendFactory>();

/** Schemes served by optional packages, loaded on first use so `new App({ broker: 'amqp://…' })` just works. */
const PLUGIN_PACKAGES: Record<string, string> = {
  amqp: '@queue/amqp',
  amqps: '@queue/amqp',
  pyamqp: '@queue/amqp',
  rpc: '@queue/amqp',
  redis: '@queue/redis',
  rediss: '@queue/redis',
  postgresql: '@queue/postgres',
  postgres: '@queue/postgres',
  'db+postgresql': '@queue/postgres',
};

/** Makes `scheme://` broker URLs use `factory` (how `@queue/amqp` adds `amqp://`). */
export function registerTransport(schemes: readonly string[], factory: TransportFactory): void {
  for (const scheme of schemes) transports.set(scheme, factory);
}

/** Makes `scheme://` result backend URLs use `factory` (how `@queue/amqp` adds `rpc://`). */
export function registerResultBackend(schemes: readonly string[], factory: ResultBackendFactory): void {
  for (const scheme of schemes) backends.set(scheme, factory);
}

export function schemeOf(url: string, what: string): string {
  const match = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (!match)
    throw new ConfigurationError(`${what} URL must look like scheme://…, got ${JSON.stringify(url)}`);
  return match[1]!.toLowerCase();
}

/** Folders a plugin package is also looked up from (the CLI adds its `--app` module's folder). */
const pluginSearchPaths: string[] = [];

/**
 * Also look for result-backend and transport packages (`@queue/redis`, `@queue/postgres`, …) from `dir`:
 * under pnpm, and in a deployed image, only the application's own node_modules may hold them.
 */
export function addPluginSearchPath(dir: string): void {
  if (!pluginSearchPaths.includes(dir)) pluginSearchPaths.push(dir);
}

function loadPlugin(scheme: string, what: string): void {
  const packageName = PLUGIN_PACKAGES[scheme];
  if (!packageName) return;
  try {
    // Looked up from the app's entry module too: under pnpm only the app's own node_modules links the plugin.
    const entry = require.main?.filename;
    const paths = [process.cwd(), ...pluginSearchPaths, ...(entry ? [dirname(entry)] : []), __dirname];
    const resolved = require.resolve(packageName, { paths });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional plugin, loaded only when its scheme is used
    require(resolved);
  } catch (error) {
    throw new ConfigurationError(
      `${what} ${scheme}:// needs the ${packageName} package: install it and import it once`,
      {
        cause: error,
      },
    );
  }
}

function lookup<F>(registry: Map<string, F>, url: string, what: string): F {
  const scheme = schemeOf(url, what);
  if (!registry.has(scheme)) loadPlugin(scheme, what);
  const factory = registry.get(scheme);
  if (!factory)
    throw new ConfigurationError(`Unknown ${what} scheme ${scheme}:// (in ${JSON.stringify(url)})`);
  return factory;
}

export function createTransport(url: string, context: TransportContext): Transport {
  return lookup(transports, url, 'broker')(url, context);
}

export function createResultBackend(url: string, context: ResultBackendContext): ResultBackend {
  return lookup(backends, url, 'result backend')(url, context);
}
