import type Redis from 'ioredis';
import type { JsonValue } from '@queue/core';
import type { ChordPart, ChordStore } from '@queue/core/transport';
import { chordKeys } from './keys';
import { pythonJson } from './python-json';

/** Runs one Redis command, turning its failure into a TransportError that names what was being done. */
export type CommandRunner = <T>(what: string, run: () => Promise<T>) => Promise<T>;

/**
 * Celery's native chord join on Redis (`RedisBackend.on_chord_part_return`), byte for byte, so that Python and
 * TypeScript header tasks count in the same chord: each part is a member `[1, id, state, result]` of the
 * sorted set `celery-taskset-meta-<group>.j` scored by its place in the header; the caller stores the
 * header's size in `.s` before the header can end; the part that brings the count to the size (read in the
 * same MULTI) gets every part and deletes the keys.
 */
export class RedisChordStore implements ChordStore {
  constructor(
    private readonly client: Redis,
    /** Seconds the keys live ('' for ever), as the results do. */
    private readonly expires: string,
    private readonly command: CommandRunner,
  ) {}

  async prepare(groupId: string, headerIds: readonly string[]): Promise<void> {
    const { size } = chordKeys(groupId);
    const count = String(headerIds.length);
    await this.command('store a chord size', () =>
      this.expires === ''
        ? this.client.set(size, count)
        : this.client.set(size, count, 'EX', Number(this.expires)),
    );
  }

  async partReturned(part: ChordPart): Promise<ChordPart[] | undefined> {
    const keys = chordKeys(part.groupId);
    const member = pythonJson([1, part.taskId, part.state, part.result]);
    const score = part.groupIndex === null ? '+inf' : String(part.groupIndex);
    const replies = await this.command('count a chord part', () => {
      const multi = this.client.multi().zadd(keys.join, score, member).zcount(keys.join, '-inf', '+inf');
      multi.get(keys.total).get(keys.size);
      if (this.expires !== '') for (const key of Object.values(keys)) multi.expire(key, Number(this.expires));
      return multi.exec();
    });
    if (!replies) return undefined;
    const [, [, readyCount], [, totalDiff], [, size]] = replies as Array<[Error | null, unknown]>;
    // No size: the chord was not sent by a client that announces it (Celery's body never fires then either).
    if (typeof size !== 'string') return undefined;
    if (Number(readyCount) !== Number(size) + Number(totalDiff ?? 0)) return undefined;
    const members = await this.command('read a chord', () => this.client.zrange(keys.join, 0, -1));
    await this.command('delete a chord', () => this.client.del(keys.join, keys.total, keys.size));
    // ZRANGE lists them by score: the header's order.
    return members.map((text) => decodeMember(part.groupId, text));
  }
}

function decodeMember(groupId: string, text: string): ChordPart {
  const [, taskId, state, result] = JSON.parse(text) as [number, string, string, JsonValue];
  return { groupId, taskId, state, result, groupIndex: null };
}
