/**
 * `@queue/redis`: the `redis://` and `rediss://` result backend, in Celery's key layout
 * (`celery-task-meta-<id>`, published on the channel of the same name) so that Celery and our workers and
 * clients share results. `@queue/core` loads it by itself for these URLs, when it is installed. Its settings
 * live in the URL: {@link parseRedisUrl}.
 *
 * @example
 * ```ts
 * const app = new App({ name: 'shop', broker: 'amqp://localhost', resultBackend: 'redis://localhost:6379/0' });
 * ```
 *
 * @module \@queue/redis
 */
import { registerResultBackend } from '@queue/core/transport';
import { RedisResultBackend } from './redis-result-backend';

registerResultBackend(
  ['redis', 'rediss'],
  (url, { options, resultExpires }) => new RedisResultBackend(url, options, resultExpires),
);

export { RedisResultBackend } from './redis-result-backend';
export { parseRedisUrl, type RedisAddress } from './redis-url';
export { chordKeys, taskKey } from './keys';
