import { processHolds } from '@queue/core/testing';
import {
  amqpApp,
  BrokerAdmin,
  closeConnectionsNamed,
  killProcess,
  spawnFixture,
  startWorkerProcess,
  uniqueQueue,
  waitFor,
  type FixtureProcess,
} from './helpers';

/**
 * A process that only runs a worker, or only waits for a result, lives exactly as long as the framework
 * holds it: between two reconnect attempts no socket is open, and Node would end it with exit code 0.
 * These run the built packages in child processes, with nothing else keeping them alive.
 */
jest.setTimeout(60_000);

let admin: BrokerAdmin;
beforeAll(async () => (admin = await BrokerAdmin.open()));
afterAll(async () => admin.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a send to an unreachable broker fails the script (exit 1, the error named), never exits 0', async () => {
  const client = spawnFixture('client-process', {
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:1//',
    QUEUE: uniqueQueue('unreachable'),
    MODE: 'send',
    CONNECT_TIMEOUT_MS: '1500',
  });
  try {
    expect(await client.exited).toBe(1);
    expect(client.output()).toMatch(/BrokerUnavailableError: could not connect to .*127\.0\.0\.1:1/);
  } finally {
    await killProcess(client);
  }
});

test('an embedded worker whose connection the broker closes stays up, logs its reconnect and runs later tasks', async () => {
  const queue = uniqueQueue('lifetime-worker');
  const connectionName = `it-lifetime-worker-${process.pid}-${Date.now()}`;
  const caller = amqpApp(queue);
  let worker: FixtureProcess | undefined;
  try {
    worker = await startWorkerProcess(queue, 4, { CONNECTION_NAME: connectionName, LOG_LEVEL: 'info' });
    for (let round = 1; round <= 2; round++) {
      closeConnectionsNamed(connectionName);
      await waitFor(() => worker!.output().split('connection to').length > round * 2, 10_000);
      await sleep(500);
      expect(worker.child.exitCode).toBeNull();
      const result = await caller.sendTask('it.slow', [round, 10]);
      await expect(result.get({ timeout: 15 })).resolves.toBe(round);
    }
    const log = worker.output();
    expect(log).toMatch(/AMQP connection to .* lost .*reconnecting/);
    expect(log).toMatch(/AMQP reconnect attempt 1 to /);
    expect(log).toMatch(/AMQP connection to .* restored after \d+ ms/);
    expect(worker.child.exitCode).toBeNull();
  } finally {
    await killProcess(worker);
    await caller.close({ timeoutMs: 1000 });
    await admin.cleanup(queue);
  }
});

test('a script awaiting get() keeps waiting across lost connections and prints the result', async () => {
  const queue = uniqueQueue('lifetime-get');
  const connectionName = `it-lifetime-get-${process.pid}-${Date.now()}`;
  const client = spawnFixture('client-process', {
    QUEUE: queue,
    MODE: 'wait',
    CONNECTION_NAME: connectionName,
  });
  const workerApp = amqpApp(queue);
  try {
    await waitFor(() => client.output().includes('sent '), 15_000);
    for (let round = 0; round < 3; round++) {
      closeConnectionsNamed(connectionName);
      await sleep(400);
      expect(client.child.exitCode).toBeNull(); // still waiting, not ended in silence
    }
    workerApp.task({ name: 'it.slow' }, async (id: number) => id * 6);
    await workerApp.worker({ concurrency: 2 }).start();
    expect(await client.exited).toBe(0);
    expect(client.output()).toMatch(/result 42/);
  } finally {
    await killProcess(client);
    await workerApp.close({ timeoutMs: 1000 });
    await admin.cleanup(queue);
  }
});

test('a worker that cannot reach the broker at start-up rejects start() and releases the process', async () => {
  const app = amqpApp(uniqueQueue('lifetime-start'), {
    broker: 'amqp://guest:guest@127.0.0.1:1//',
    transportOptions: { connectTimeoutMs: 500 },
  });
  try {
    app.task({ name: 'it.noop' }, () => null);
    const worker = app.worker();
    await expect(worker.start()).rejects.toThrow(/could not connect/);
    expect(worker.running).toBe(false);
    expect(processHolds()).toBe(0); // a failed start does not keep the process alive
  } finally {
    await app.close();
  }
});
