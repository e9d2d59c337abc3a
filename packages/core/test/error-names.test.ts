import { RemoteTaskError } from '@queue/core';
import { testApp } from './helpers';

describe('errors keep their class name', () => {
  test('a subclass without `name` is reported by its class name; the message has no prefix', async () => {
    class PaymentDeclined extends Error {}
    class Named extends Error {
      override name = 'CustomName';
    }
    const app = testApp();
    try {
      const declined = app.task({ name: 'names.declined' }, () => {
        throw new PaymentDeclined('card refused');
      });
      const named = app.task({ name: 'names.named' }, () => {
        throw new Named('named');
      });
      const plain = app.task({ name: 'names.plain' }, () => {
        throw new Error('plain');
      });
      await app.worker().start();
      const outcome = async (send: () => Promise<{ get(o: object): Promise<unknown> }>) =>
        (await (await send()).get({ timeout: 3, propagate: false })) as RemoteTaskError;
      const first = await outcome(() => declined.delay());
      expect([first.excType, first.excMessage, first.message]).toEqual([
        'PaymentDeclined',
        'card refused',
        'card refused',
      ]);
      expect((await outcome(() => named.delay())).excType).toBe('CustomName');
      expect((await outcome(() => plain.delay())).excType).toBe('Error');
    } finally {
      await app.close();
    }
  });
});
