import { registerResultBackend } from '@queue/core/transport';
import { RedisResultBackend } from './redis-result-backend';

registerResultBackend(
  ['redis', 'rediss'],
  (url, { options, resultExpires }) => new RedisResultBackend(url, options, resultExpires),
);

export { RedisResultBackend } from './redis-result-backend';
export { parseRedisUrl, type RedisAddress } from './redis-url';
export { chordKeys, taskKey } from './keys';
