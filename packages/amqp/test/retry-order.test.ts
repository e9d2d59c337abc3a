import type { App, StateChange } from '@queue/core';
import { amqpApp, BrokerAdmin, uniqueQueue } from './helpers';

/**
 * Over rpc:// a retried task's RETRY must reach the caller before the next attempt's states: it is stored
 * before the next attempt is sent (it used to arrive after the next attempt's PROGRESS now and then).
 */
describe('retry ordering over rpc://', () => {
  const queue = uniqueQueue('retry-order');
  let app: App;
  let admin: BrokerAdmin;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    app = amqpApp(queue);
  });

  afterAll(async () => {
    await app.close({ timeoutMs: 2000 });
    await admin.cleanup(queue);
    await admin.close();
  });

  test('states never go backwards across attempts', async () => {
    const name = 'order.flaky';
    const flaky = app.task({ name, bind: true, maxRetries: 3 }, async (self, _id: number) => {
      await self.updateState('PROGRESS', { attempt: self.request.retries });
      if (self.request.retries < 2) await self.retry({ countdown: 0 });
      return self.request.retries;
    });
    const worker = app.worker({ concurrency: 4 });
    await worker.start();
    try {
      const order = ['P0', 'RETRY', 'P1', 'RETRY', 'P2', 'SUCCESS'];
      const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => flaky.delay(i)));
      for (const result of runs) {
        const seen: string[] = [];
        for await (const change of result as AsyncIterable<StateChange>) {
          seen.push(
            change.state === 'PROGRESS' ? `P${(change.info as { attempt: number }).attempt}` : change.state,
          );
        }
        // Each state seen comes strictly later in the expected order than the one before it.
        let at = 0;
        for (const state of seen) {
          const found = order.indexOf(state, at);
          if (found === -1) throw new Error(`states out of order: ${seen.join(' → ')}`);
          at = found + 1;
        }
        expect(seen.at(-1)).toBe('SUCCESS');
      }
    } finally {
      await worker.stop();
    }
  });
});
