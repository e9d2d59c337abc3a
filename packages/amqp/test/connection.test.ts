import { App } from '@queue/core';
import { BrokerAccessRefusedError, BrokerUnavailableError } from '../src';
import { uniqueQueue } from './helpers';

jest.setTimeout(20_000);

describe('connecting', () => {
  test('an unreachable broker: connect and publish give up after the timeout with a clear error', async () => {
    const app = new App({
      name: 'unreachable',
      broker: 'amqp://guest:guest@127.0.0.1:1//', // nothing listens on port 1
      setAsCurrent: false,
      transportOptions: { connectTimeoutMs: 600, reconnectInitialDelayMs: 50 },
    });
    try {
      const started = Date.now();
      const error = await app.sendTask('any.task').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokerUnavailableError);
      expect((error as Error).message).toMatch(/127\.0\.0\.1:1/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await app.close();
    }
  });

  test('wrong credentials fail at once, without retrying', async () => {
    const app = new App({
      name: 'refused',
      broker: 'amqp://guest:wrong-password@127.0.0.1:5672//',
      defaultQueue: uniqueQueue('refused'),
      setAsCurrent: false,
      transportOptions: { connectTimeoutMs: 10_000 },
    });
    try {
      const started = Date.now();
      const error = await app.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokerAccessRefusedError);
      expect((error as Error).message).not.toContain('wrong-password');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await app.close();
    }
  });
});
