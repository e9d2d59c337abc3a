/** A setting in the environment is unusable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** How the sample runs, from the environment. */
export interface SampleConfig {
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Set: tasks go to RabbitMQ and `queue worker` processes run them. */
  amqpUrl?: string;
  /** Set: records live in that PostgreSQL; else in the embedded PGlite. */
  databaseUrl?: string;
  pgliteDataDir?: string;
  recordsTable?: string;
  /** Run a worker in this process (always on the in-memory broker; `RUN_WORKER=1` with RabbitMQ). */
  runWorker: boolean;
}

/** @throws ConfigError naming the bad variable. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  const rawPort = env.PORT ?? '3000';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    throw new ConfigError(`PORT must be a port number (0-65535), got ${JSON.stringify(rawPort)}`);
  }
  const amqpUrl = env.AMQP_URL || undefined;
  return {
    port,
    host: env.HOST || '127.0.0.1',
    amqpUrl,
    databaseUrl: env.DATABASE_URL || undefined,
    pgliteDataDir: env.PGLITE_DATA_DIR || undefined,
    recordsTable: env.RECORDS_TABLE || undefined,
    runWorker: !amqpUrl || env.RUN_WORKER === '1',
  };
}
