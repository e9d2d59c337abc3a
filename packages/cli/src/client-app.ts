import { App, configureLogging } from '@queue/core';
import { CliUsageError } from './cli-error';
import { loadApp } from './load-app';

/** How one-shot commands (`call`, `status`, `inspect`) find the broker. */
export interface ClientAppOptions {
  app?: string;
  broker?: string;
  resultBackend?: string;
  /** Seconds; with `broker` only (an `--app` module configures its own transport). */
  connectTimeout?: number;
}

/**
 * The App of `--app`, or a bare one on `--broker` / `AMQP_URL`. One-shot commands print their results on
 * stdout, so their log lines (a reconnect, a dropped event) go to stderr.
 */
export async function clientApp(command: string, options: ClientAppOptions): Promise<App> {
  configureLogging({ stream: 'stderr' });
  if (!options.app && !options.broker) {
    throw new CliUsageError(
      `queue ${command} needs --app <module> or --broker <url> (or AMQP_URL in the environment)`,
    );
  }
  return options.app
    ? await loadApp(options.app)
    : new App({
        name: 'queue-cli',
        broker: options.broker,
        resultBackend: options.resultBackend,
        transportOptions:
          options.connectTimeout !== undefined && !options.broker?.startsWith('memory:')
            ? { connectTimeoutMs: Math.max(1, Math.round(options.connectTimeout * 1000)) }
            : {},
      });
}

/**
 * The App's remote control, or a usage error where it cannot reach a worker: a broker without one, or an
 * in-process memory:// broker (its workers live in another process).
 */
export function controlOf(app: App): App['control'] {
  if (!app.transport.control || app.transport.displayUrl.startsWith('memory:')) {
    throw new CliUsageError(
      `the broker ${app.transport.displayUrl} has no remote control (in-process memory:// workers cannot be inspected from another process); use an amqp:// broker`,
    );
  }
  return app.control;
}
