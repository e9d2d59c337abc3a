import { ConfigurationError, States } from '@queue/core';
import type { StateMessage } from '@queue/core/transport';
import {
  AmqpTransport,
  DELAY_LEVELS,
  DELIVERY_EXCHANGE,
  delayedRoutingKey,
  levelName,
  MAX_DELAY_SECONDS,
  parseBrokerUrl,
} from '../src';
import { stripDelayPrefix } from '../src/topology/delayed-delivery';
import { StateCache } from '@queue/core/transport';

const base = { heartbeatSeconds: 60, tls: {} };

describe('broker URLs (no broker needed)', () => {
  test.each([
    ['amqp://guest:guest@127.0.0.1:5672//', '/', 5672, 'amqp'],
    ['amqp://guest:guest@127.0.0.1:5672/', '/', 5672, 'amqp'],
    ['amqp://u:p@127.0.0.1', '/', 5672, 'amqp'],
    ['amqp://u:p@127.0.0.1/prod', 'prod', 5672, 'amqp'],
    ['amqp://u:p@127.0.0.1/%2Fstaging', '/staging', 5672, 'amqp'],
    ['pyamqp://u:p@127.0.0.1:5673/x', 'x', 5673, 'amqp'],
    ['amqps://u:p@127.0.0.1/', '/', 5671, 'amqps'],
  ])('%s → vhost %s, port %d, %s', (url, vhost, port, protocol) => {
    const address = parseBrokerUrl(url, base);
    expect(address.connect).toMatchObject({ vhost, port, protocol, hostname: '127.0.0.1' });
  });

  test('credentials are percent-decoded; the display URL masks the password', () => {
    const address = parseBrokerUrl('amqp://us%40er:p%3Ass@127.0.0.1:5672/', base);
    expect(address.connect).toMatchObject({ username: 'us@er', password: 'p:ss' });
    expect(address.displayUrl).not.toContain('p%3Ass');
    expect(address.displayUrl).toContain('****');
  });

  test('the socket has Nagle off; TLS options reach amqps sockets only', () => {
    const tls = { ca: 'CA', servername: 'rabbit.local', rejectUnauthorized: false };
    expect(parseBrokerUrl('amqps://127.0.0.1', { ...base, tls }).socket).toMatchObject({
      noDelay: true,
      ...tls,
    });
    expect(parseBrokerUrl('amqp://127.0.0.1', { ...base, tls }).socket).not.toHaveProperty('ca');
  });

  test('bad URLs are configuration errors naming the problem', () => {
    expect(() => parseBrokerUrl('redis://127.0.0.1', base)).toThrow(/not amqp, amqps or pyamqp/);
    expect(() => parseBrokerUrl('amqp://', base)).toThrow(ConfigurationError);
  });
});

describe('transport options', () => {
  test('unknown or invalid options name the option', () => {
    expect(() => new AmqpTransport('amqp://127.0.0.1', { prefetchh: 3 })).toThrow(/prefetchh/);
    expect(() => new AmqpTransport('amqp://127.0.0.1', { publishTimeoutMs: -1 })).toThrow(/publishTimeoutMs/);
    expect(() => new AmqpTransport('amqp://127.0.0.1', { delayedQueueType: 'stream' })).toThrow(
      /delayedQueueType/,
    );
    expect(() => new AmqpTransport('amqp://127.0.0.1', { tls: { rejectUnauthorized: 'no' } })).toThrow(
      /tls\.rejectUnauthorized/,
    );
  });
});

describe('broker-side delay routing (Celery 5.5 layout)', () => {
  test('the delay in seconds is written as 28 binary digits before the queue name', () => {
    const key = delayedRoutingKey(5, 'celery');
    const words = key.split('.');
    expect(words).toHaveLength(DELAY_LEVELS + 1);
    expect(words.slice(0, DELAY_LEVELS).join('')).toBe((5).toString(2).padStart(DELAY_LEVELS, '0'));
    expect(words.at(-1)).toBe('celery');
  });

  test('the sum of the parked levels is the delay', () => {
    for (const seconds of [1, 2, 3, 60, 3600, 86_399, MAX_DELAY_SECONDS]) {
      const bits = delayedRoutingKey(seconds, 'q').split('.').slice(0, DELAY_LEVELS);
      const total = bits.reduce((sum, bit, i) => sum + (bit === '1' ? 2 ** (DELAY_LEVELS - 1 - i) : 0), 0);
      expect(total).toBe(seconds);
    }
  });

  test('delays beyond 2^28 − 1 s are capped; dotted queue names survive the prefix round trip', () => {
    expect(delayedRoutingKey(MAX_DELAY_SECONDS * 4, 'q')).toBe(delayedRoutingKey(MAX_DELAY_SECONDS, 'q'));
    expect(stripDelayPrefix(delayedRoutingKey(9, 'tasks.high.eu'))).toBe('tasks.high.eu');
    expect(stripDelayPrefix('tasks.high')).toBe('tasks.high');
    expect(levelName(0)).toBe('celery_delayed_0');
    expect(DELIVERY_EXCHANGE).toBe('celery_delayed_delivery');
  });
});

describe('result state cache', () => {
  const state = (taskId: string, s: string): StateMessage => ({
    taskId,
    state: s,
    result: null,
    traceback: null,
    children: null,
  });

  test('keeps the newest state, bounded, oldest out first', () => {
    const cache = new StateCache(2);
    cache.set(state('a', States.STARTED));
    cache.set(state('b', States.STARTED));
    cache.set(state('a', 'PROGRESS'));
    cache.set(state('c', States.SUCCESS));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.state).toBe('PROGRESS');
  });

  test('a finished task never goes back to an unfinished state (duplicate run after redelivery)', () => {
    const cache = new StateCache(10);
    cache.set(state('a', States.SUCCESS));
    expect(cache.set(state('a', States.STARTED))).toBe(false);
    expect(cache.get('a')?.state).toBe(States.SUCCESS);
  });
});
