import { workerMetrics } from '@queue/core/metrics';
import { amqpApp, BrokerAdmin, closeConnectionsNamed, uniqueQueue, waitFor } from './helpers';

/** Worker metrics on RabbitMQ: broker reconnects are counted through AmqpTransport.onReconnect. */
jest.setTimeout(60_000);

test('a connection closed by the broker counts one reconnect; tasks before and after are counted', async () => {
  const queue = uniqueQueue('metrics');
  const connectionName = `it-metrics-${process.pid}-${Date.now()}`;
  const app = amqpApp(queue, { transportOptions: { connectionName } });
  const admin = await BrokerAdmin.open();
  try {
    let runs = 0;
    app.task({ name: 'it.double' }, (n: number) => {
      runs += 1;
      return n * 2;
    });
    const worker = app.worker({ hostname: 'metrics@it', concurrency: 2 });
    const metrics = workerMetrics(worker);
    const sample = async (name: string, labels: string): Promise<number> => {
      const line = (await metrics.registry.metrics())
        .split('\n')
        .find((l) => l.startsWith(`${name}{${labels}}`));
      return line === undefined ? NaN : Number(line.split(' ').at(-1));
    };
    const reconnects = () => sample('queue_broker_reconnects_total', 'worker="metrics@it"');
    const succeeded = () =>
      sample('queue_tasks_total', 'worker="metrics@it",task="it.double",state="succeeded"');
    await worker.start();
    expect(await (await app.sendTask('it.double', [1])).get({ timeout: 10 })).toBe(2);
    // Counted as the message is settled, just after the caller has the result.
    await waitFor(async () => (await succeeded()) === 1);
    expect(await reconnects()).toBe(0);

    closeConnectionsNamed(connectionName);
    await waitFor(async () => (await reconnects()) === 1);
    expect(await (await app.sendTask('it.double', [2])).get({ timeout: 20 })).toBe(4);
    // A send caught by the reconnect may be delivered twice (at least once): the count follows the runs.
    await waitFor(async () => (await succeeded()) === runs);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(await reconnects()).toBe(1);
    metrics.close();
  } finally {
    await app.close({ timeoutMs: 1000 });
    await admin.cleanup(queue);
    await admin.close();
  }
});
