import type { ChordPart, ChordStore, JsonValue } from '@queue/core/transport';
import type { ResultStore } from './result-store';
import { quoted } from './schema';
import type { TableNames } from './settings';

/** A stored part as read back (`bigint` and `json` as text, so nothing is lost on the way). */
interface PartRow {
  readonly taskId: string;
  readonly groupIndex: string | null;
  readonly state: string;
  readonly result: string;
}

/**
 * Chords joined in PostgreSQL. `prepare` stores the header's size in the group table (`count`). Each ended
 * header task then runs one transaction: it locks that row (an UPDATE, which also keeps the chord alive
 * `resultExpires` longer), upserts its part (a redelivered task counts once, its latest outcome kept), counts
 * the parts, and when they reach the size deletes the chord's rows and gets them all. Under READ COMMITTED a
 * statement sees what was committed before it began: the lock, taken first, makes each part wait until the
 * one before it has committed, so its count sees that part too, and only the part that completes the header
 * sees them all (later ones find the row gone).
 *
 * A part stored before `prepare` (callers prepare before sending the header, so only a stray one) counts once
 * the size is there; the chord cannot fire before that, and `prepare` never sends a body: when every part
 * came first, the chord fires only if one of them is delivered again.
 */
export class PostgresChordStore implements ChordStore {
  private readonly sql: ReturnType<typeof chordStatements>;

  constructor(
    private readonly store: ResultStore,
    tables: TableNames,
    /** Seconds sizes and parts live (the App's `resultExpires`); null: until the chord fires. */
    private readonly expiresInSeconds: number | null,
    /** Called after each write (the backend deletes expired rows now and then). */
    private readonly wrote: () => void = () => undefined,
  ) {
    this.sql = chordStatements(tables);
  }

  async prepare(groupId: string, headerIds: readonly string[]): Promise<void> {
    checkGroupId(groupId);
    // An upsert: sending it twice stores the same size.
    await this.store.query('storing a chord size', true, this.sql.prepare, [
      groupId,
      headerIds.length,
      this.expiresInSeconds,
    ]);
    this.wrote();
  }

  /** @throws TransportError when the database fails, or when the connection died while a completing part committed. */
  async partReturned(part: ChordPart): Promise<ChordPart[] | undefined> {
    checkGroupId(part.groupId);
    if (part.groupIndex !== null && !(Number.isSafeInteger(part.groupIndex) && part.groupIndex >= 0)) {
      throw new RangeError(
        `a chord part's groupIndex is a non-negative integer or null, got ${part.groupIndex}`,
      );
    }
    const result = JSON.stringify(part.result) as string | undefined;
    if (result === undefined) throw new TypeError(`the result of chord part ${part.taskId} is not JSON`);
    const { groupId } = part;
    const rows = await this.store.transaction(
      'counting a chord part',
      async (query) => {
        const [chord] = await query<{ size: string }>(this.sql.lock, [groupId, this.expiresInSeconds]);
        await query(this.sql.part, [
          groupId,
          part.taskId,
          part.groupIndex === null ? null : String(part.groupIndex),
          part.state,
          result,
          this.expiresInSeconds,
        ]);
        // Not prepared (or fired already, or expired): nothing to complete.
        if (!chord) return undefined;
        const [counted] = await query<{ parts: string }>(this.sql.count, [groupId]);
        if (Number(counted?.parts ?? 0) < Number(chord.size)) return undefined;
        return query<PartRow>(this.sql.take, [groupId]);
      },
      // Doing a part again after a lost COMMIT is harmless unless it completed the chord: its rows may be gone,
      // and a second run would answer undefined to the one caller that must send the body.
      (taken) => taken === undefined,
    );
    this.wrote();
    return rows?.map((row) => decodePart(groupId, row));
  }
}

function checkGroupId(groupId: string): void {
  if (typeof groupId !== 'string' || groupId.length === 0) throw new TypeError('a chord needs a group id');
}

function decodePart(groupId: string, row: PartRow): ChordPart {
  return {
    groupId,
    taskId: row.taskId,
    groupIndex: row.groupIndex === null ? null : Number(row.groupIndex),
    state: row.state,
    // A json column: valid JSON, exactly the text written.
    result: JSON.parse(row.result) as JsonValue,
  };
}

function chordStatements(tables: TableNames) {
  const groups = quoted(tables.groups);
  const parts = quoted(tables.chordParts);
  const expiry = `now() + $3::double precision * interval '1 second'`;
  return {
    prepare: `INSERT INTO ${groups} (group_id, count, expires_at) VALUES ($1, $2, ${expiry})
ON CONFLICT (group_id) DO UPDATE SET count = EXCLUDED.count, expires_at = EXCLUDED.expires_at`,
    // Takes the row lock that orders the parts of one chord; an expired size counts as none.
    lock: `UPDATE ${groups} SET expires_at = now() + $2::double precision * interval '1 second'
WHERE group_id = $1 AND (expires_at IS NULL OR expires_at > now())
RETURNING count::text AS size`,
    part: `INSERT INTO ${parts} (group_id, task_id, group_index, state, result, expires_at)
VALUES ($1, $2, $3::bigint, $4, $5::json, now() + $6::double precision * interval '1 second')
ON CONFLICT (group_id, task_id) DO UPDATE
  SET group_index = EXCLUDED.group_index, state = EXCLUDED.state, result = EXCLUDED.result,
      expires_at = EXCLUDED.expires_at`,
    count: `SELECT count(*)::text AS parts FROM ${parts} WHERE group_id = $1`,
    // Header order; parts without a place last, by task id (as Celery's Redis sorted set orders equal scores).
    take: `WITH size AS (DELETE FROM ${groups} WHERE group_id = $1),
taken AS (DELETE FROM ${parts} WHERE group_id = $1 RETURNING task_id, group_index, state, result)
SELECT task_id AS "taskId", group_index::text AS "groupIndex", state, result::text AS result
FROM taken ORDER BY group_index ASC NULLS LAST, task_id COLLATE "C"`,
  };
}
