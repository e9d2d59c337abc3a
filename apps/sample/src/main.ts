import { QueueError } from '@queue/core';
import { app } from './app';
import { ConfigError, readConfig } from './config';
import { startSample } from './sample';
import { tour } from './tour';

/**
 * `npm start`: the database, the web page and (on the in-memory broker, or with RUN_WORKER=1) a worker,
 * all in this process, until SIGINT/SIGTERM. With AMQP_URL the tasks go to RabbitMQ and
 * `queue worker --app apps/sample/dist/worker.js` processes run them.
 */
async function main(): Promise<void> {
  const config = readConfig();
  const sample = await startSample(config, app);
  const workerNote = sample.worker
    ? 'worker in this process'
    : 'no worker here: run `queue worker --app apps/sample/dist/worker.js`';
  console.log(
    `hello_celery: broker ${app.transport.displayUrl}, queue ${app.defaultQueue}, database ${sample.db.kind}, ${workerNote}`,
  );
  console.log(`Sample app ready: ${sample.url}`);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.log(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping (running tasks get up to 10 s; press Ctrl+C again to force)`);
    sample.stop().then(
      () => {
        console.log('stopped');
        process.exitCode = 0;
        // Everything is closed, so the process ends by itself; this only guards against a stray handle.
        setTimeout(() => process.exit(0), 2000).unref();
      },
      (error: unknown) => {
        console.error('error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  await tour().catch((error: unknown) => {
    if (!stopping) console.error('tour failed:', error);
  });
  if (!stopping) console.log(`Open ${sample.url} to create records and watch their progress (Ctrl+C stops).`);
}

main().catch((error: unknown) => {
  // Expected failures (broker unreachable or refusing us, a bad setting) in one line; anything else in full.
  const known = error instanceof QueueError || error instanceof ConfigError;
  console.error(known ? `error: ${(error as Error).name}: ${(error as Error).message}` : error);
  process.exit(1);
});
