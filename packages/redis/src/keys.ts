/** Celery's key (and pub/sub channel) for a task's state: shared with Celery workers and clients. */
export function taskKey(taskId: string): string {
  return `celery-task-meta-${taskId}`;
}

/** Celery's keys of a chord being joined: finished parts (sorted set), size, and size adjustment. */
export function chordKeys(groupId: string): {
  /** The sorted set of finished header parts (`celery-taskset-meta-<group>.j`). */
  join: string;
  /** The header's size (`….s`). */
  size: string;
  /** The adjustment of the size (`….t`). */
  total: string;
} {
  const base = `celery-taskset-meta-${groupId}`;
  return { join: `${base}.j`, size: `${base}.s`, total: `${base}.t` };
}

/**
 * Stores a state document unless that would replace a ready state (SUCCESS, FAILURE, REVOKED) with a
 * non-ready one (a redelivered duplicate run reporting STARTED late), then publishes it on the key's channel,
 * as Celery's Redis backend does. KEYS[1]: the key; ARGV: document, expiry seconds ('' for none), whether
 * the new state is ready ('1'/'0'). Returns 1 when stored.
 */
export const STORE_STATE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current and ARGV[3] == '0' then
  local ok, doc = pcall(cjson.decode, current)
  if ok and type(doc) == 'table' then
    local status = doc['status']
    if status == 'SUCCESS' or status == 'FAILURE' or status == 'REVOKED' then return 0 end
  end
end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', KEYS[1], ARGV[1])
return 1
`;
