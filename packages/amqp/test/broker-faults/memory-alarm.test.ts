import { BrokerBlockedError, type AmqpTransport } from '../../src';
import { amqpApp, BrokerAdmin, uniqueQueue, waitFor } from '../helpers';
import { memoryWatermark, restoreBroker, setMemoryWatermark } from './fault-kit';

/**
 * A memory alarm (`set_vm_memory_high_watermark 0.00001`) makes RabbitMQ block publishing connections
 * (`connection.blocked`). Sends then wait, bounded in time and number, and fail with BrokerBlockedError
 * naming the alarm; sends resume when it clears.
 */
jest.setTimeout(120_000);

const watermark = memoryWatermark();
// Also here: a test that times out skips its own `finally`, and an alarm left on would block every publisher.
afterAll(() => restoreBroker(watermark));

const PUBLISH_TIMEOUT_MS = 2000;
const MAX_WAITING = 200;

test('while RabbitMQ blocks publishers: sends wait, then fail naming the alarm; bounded; they resume after', async () => {
  const queue = uniqueQueue('alarm');
  const app = amqpApp(queue, {
    transportOptions: { publishTimeoutMs: PUBLISH_TIMEOUT_MS, maxWaitingPublishes: MAX_WAITING },
  });
  const connection = (app.transport as AmqpTransport).connection;
  try {
    app.task({ name: 'it.echo' }, (value: number) => value);
    // Started first: a blocked connection's frames are not read, so no channel could open during the alarm.
    await app.worker({ concurrency: 4 }).start();
    await expect((await app.sendTask('it.echo', [1])).get({ timeout: 10 })).resolves.toBe(1);
    setMemoryWatermark('0.00001');

    // The first publish is written (the broker only then says the connection is blocked); its confirm
    // never comes: after the publish timeout it fails with BrokerBlockedError naming the alarm.
    const started = Date.now();
    const first = await app.sendTask('it.echo', [2]).catch((error: unknown) => error);
    const waited = Date.now() - started;
    expect(first).toBeInstanceOf(BrokerBlockedError);
    expect((first as BrokerBlockedError).reason).toMatch(/memory/);
    expect((first as Error).message).toMatch(/blocking publishers \(low on memory\).*alarm/);
    expect(waited).toBeGreaterThanOrEqual(PUBLISH_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(PUBLISH_TIMEOUT_MS + 2000);
    expect(connection.blockedReason).toMatch(/memory/);

    // Bounded: at most MAX_WAITING sends wait (nothing is written for them); the rest fail at once.
    const burstStart = Date.now();
    const burst = Array.from({ length: 3 * MAX_WAITING }, (_, i) =>
      app.sendTask('it.echo', [i]).then(
        () => ({ outcome: 'sent', ms: Date.now() - burstStart }),
        (error: unknown) => ({
          outcome: error instanceof BrokerBlockedError ? 'blocked' : `other: ${String(error)}`,
          ms: Date.now() - burstStart,
        }),
      ),
    );
    const outcomes = await Promise.all(burst);
    expect(outcomes.every((o) => o.outcome === 'blocked')).toBe(true);
    const waitedOut = outcomes.filter((o) => o.ms >= PUBLISH_TIMEOUT_MS - 50).length;
    expect(waitedOut).toBeLessThanOrEqual(MAX_WAITING);
    expect(outcomes.filter((o) => o.ms < 1000).length).toBeGreaterThanOrEqual(2 * MAX_WAITING);

    // Sends waiting when the alarm clears go through, and run.
    const waiting = Array.from({ length: 50 }, (_, i) => app.sendTask('it.echo', [100 + i]));
    await new Promise((resolve) => setTimeout(resolve, 300));
    setMemoryWatermark(watermark);
    await waitFor(() => connection.blockedReason === undefined, 10_000);
    const results = await Promise.all(waiting);
    const values = await Promise.all(results.map((r) => r.get({ timeout: 20 })));
    expect(values).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
  } finally {
    restoreBroker(watermark);
    await app.close({ timeoutMs: 1000 });
    const admin = await BrokerAdmin.open();
    await admin.cleanup(queue);
    await admin.close();
  }
});
