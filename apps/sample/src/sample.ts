import type { AddressInfo } from 'node:net';
import type { App, Worker } from '@queue/core';
import type { FastifyInstance } from 'fastify';
import type { SampleConfig } from './config';
import type { Database } from './db/database';
import { openDatabase } from './db/open-database';
import { RecordStore } from './db/record-store';
import { RecordService } from './records';
import { useRecordLoader } from './tasks';
import { buildServer } from './web/server';

/** The running sample: what `main.ts` starts and the browser test drives. */
export interface RunningSample {
  /** Where the page is, e.g. `http://127.0.0.1:3000`. */
  url: string;
  db: Database;
  server: FastifyInstance;
  records: RecordService;
  /** The in-process worker, when this process runs one. */
  worker?: Worker;
  /** Closes the web server, the App (its worker finishes running tasks first), then the database. */
  stop(): Promise<void>;
}

/** How long a stop waits for running tasks before giving them up. */
const STOP_TIMEOUT_MS = 10_000;

function urlOf(server: FastifyInstance): string {
  const { address, port } = server.server.address() as AddressInfo;
  const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Opens the database (creating the table), starts a worker when configured to, and serves the page.
 * Whatever was started is closed again if a later step fails.
 */
export async function startSample(config: SampleConfig, app: App): Promise<RunningSample> {
  const db = await openDatabase(config);
  let server: FastifyInstance | undefined;
  const stop = async (): Promise<void> => {
    await server?.close();
    await app.close({ timeoutMs: STOP_TIMEOUT_MS }); // before the database: running tasks may still read it
    useRecordLoader(undefined);
    await db.close();
  };
  try {
    const store = new RecordStore(db, config.recordsTable);
    await store.ensureSchema();
    useRecordLoader((id) => store.get(id));
    let worker: Worker | undefined;
    if (config.runWorker) {
      worker = app.worker({ concurrency: 4 });
      await worker.start();
    } else {
      await app.connect(); // no worker here, but a broker that cannot be reached should fail the start
    }
    const records = new RecordService(db, store, app);
    server = buildServer({ records, app });
    await server.listen({ port: config.port, host: config.host });
    return { url: urlOf(server), db, server, records, worker, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
