import { Redis } from 'ioredis';

/** The local Redis the BullMQ benchmarks use unless told otherwise. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const SCAN_BATCH = 1_000;
/** At most this many SCAN rounds (each up to SCAN_BATCH keys): a bound, not a limit ever met in practice. */
const MAX_SCAN_ROUNDS = 100_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function withRedis<T>(
  url: string,
  timeoutMs: number,
  what: string,
  work: (redis: Redis) => Promise<T>,
) {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: Math.min(timeoutMs, 5_000),
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    return await withTimeout(
      redis.connect().then(() => work(redis)),
      timeoutMs,
      what,
    );
  } finally {
    redis.disconnect();
  }
}

/** `redis_version` from `INFO server`. */
export function redisServerVersion(url: string, timeoutMs = 10_000): Promise<string> {
  return withRedis(url, timeoutMs, 'reading the Redis version', async (redis) => {
    const info = await redis.info('server');
    const version = /^redis_version:(.+)$/m.exec(info)?.[1]?.trim();
    if (!version) throw new Error('INFO server has no redis_version');
    return version;
  });
}

/**
 * Deletes every key that starts with `prefix` (SCAN + UNLINK: only those keys, never FLUSHALL). Returns how
 * many were deleted.
 */
export function deleteKeysWithPrefix(url: string, prefix: string, timeoutMs = 30_000): Promise<number> {
  if (prefix.length < 4 || /[*?[\]\\]/.test(prefix))
    throw new Error(`refusing to delete keys under the prefix "${prefix}" (too short, or a glob pattern)`);
  return withRedis(url, timeoutMs, `deleting the Redis keys ${prefix}*`, async (redis) => {
    let cursor = '0';
    let deleted = 0;
    for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', SCAN_BATCH);
      if (keys.length > 0) deleted += await redis.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
    return deleted;
  });
}
