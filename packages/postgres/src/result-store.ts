import { Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { READY_STATES, TransportError, type Logger } from '@queue/core/transport';
import { backendError, describeError, isLostConnection, isMissingTable } from './errors';
import { createSchema, quoted } from './schema';
import type { PostgresSettings } from './settings';

/** A stored state document, as text (read back exactly as written), with its row version. */
export interface StoredDocument {
  readonly taskId: string;
  readonly document: string;
  /** The row version (`xmin`): differs after every write, so a listener can skip what it has already seen. */
  readonly version: string;
}

/** One state write. */
export interface DocumentWrite {
  readonly taskId: string;
  readonly status: string;
  /** The state document (JSON text). */
  readonly document: string;
  /** ISO 8601, for ready states. */
  readonly dateDone: string | null;
  /** Seconds the row lives; null: until forgotten. */
  readonly expiresInSeconds: number | null;
}

/** One statement of a {@link ResultStore.transaction}: its rows. */
export type TransactionQuery = <R extends QueryResultRow>(text: string, values: unknown[]) => Promise<R[]>;

/** NOTIFY payloads must stay under 8000 bytes: a longer task id is announced as '' (listeners read all they follow). */
const MAX_NOTIFY_ID_BYTES = 7900;
const READY = [...READY_STATES];

/**
 * The SQL of the backend, on a small pool of connections. Creates the tables on first use; every failure is a
 * TransportError naming the URL (password masked). Commands that may be repeated safely are sent again
 * when the connection they went out on turned out to be dead (a restarted server, a terminated session).
 */
export class ResultStore {
  private readonly pool: Pool;
  private readonly sql: ReturnType<typeof statements>;
  private schema: Promise<void> | undefined;
  private ended = false;

  constructor(
    readonly settings: PostgresSettings,
    private readonly logger: Logger,
  ) {
    this.sql = statements(settings);
    this.pool = new Pool({
      connectionString: settings.connectionString,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      query_timeout: settings.queryTimeoutMs,
      statement_timeout: settings.queryTimeoutMs,
      idleTimeoutMillis: 30_000,
      // Idle connections do not keep the process alive: a script that reads a result can end.
      allowExitOnIdle: true,
      keepAlive: true,
      fallback_application_name: 'queue-postgres',
    });
    // An idle connection that dies (server restart, terminated session) is dropped by the pool; the next
    // command opens a new one. Without this handler the 'error' event would end the process.
    this.pool.on('error', (error) => {
      this.logger.warn(
        `idle PostgreSQL connection to ${settings.displayUrl} lost (${describeError(error)}); the next command reconnects`,
      );
    });
  }

  /** Creates the tables if they are missing (once per store; again after a failure). */
  migrate(): Promise<void> {
    this.schema ??= this.withClient('creating the tables', true, (client) =>
      createSchema(client, this.settings.tables),
    ).catch((error: unknown) => {
      this.schema = undefined;
      throw error;
    });
    return this.schema;
  }

  /**
   * Stores a state unless it would replace a ready one with a non-ready one (an unexpired row only), and
   * announces the task id on the channel in the same statement (so only committed states are announced).
   */
  async write(write: DocumentWrite): Promise<void> {
    await this.command('storing a state', true, this.sql.write, [
      write.taskId,
      write.status,
      write.document,
      write.dateDone,
      write.expiresInSeconds,
      READY,
      this.settings.tables.channel,
      MAX_NOTIFY_ID_BYTES,
    ]);
  }

  /** The unexpired document of one task, or undefined. */
  async read(taskId: string): Promise<StoredDocument | undefined> {
    const { rows } = await this.command<StoredDocument>('reading a state', true, this.sql.read, [taskId]);
    return rows[0];
  }

  /** The unexpired documents of several tasks (those stored). */
  async readMany(taskIds: readonly string[]): Promise<StoredDocument[]> {
    const { rows } = await this.command<StoredDocument>('reading states', true, this.sql.readMany, [taskIds]);
    return rows;
  }

  async delete(taskId: string): Promise<void> {
    await this.command('forgetting a state', true, this.sql.delete, [taskId]);
  }

  /** One statement (on a fresh connection, sent again when its connection died and `idempotent`): its rows. */
  async query<R extends QueryResultRow>(
    doing: string,
    idempotent: boolean,
    text: string,
    values: unknown[],
  ): Promise<R[]> {
    return (await this.command<R>(doing, idempotent, text, values)).rows;
  }

  /**
   * Runs `work` in one transaction (ROLLBACK when it throws). When the connection dies before COMMIT is sent,
   * nothing was committed: the whole transaction is done again on another connection. When it dies during
   * COMMIT, the outcome is unknown: done again only when `repeatable(value)` says a second run is harmless,
   * else it fails with the TransportError.
   */
  async transaction<T>(
    doing: string,
    work: (query: TransactionQuery) => Promise<T>,
    repeatable: (value: T) => boolean = () => false,
  ): Promise<T> {
    await this.migrate();
    let retry = true;
    return this.withClient(
      doing,
      () => retry,
      async (client) => {
        retry = true;
        await client.query('BEGIN');
        const query: TransactionQuery = async <R extends QueryResultRow>(text: string, values: unknown[]) =>
          (await client.query<R>(text, values)).rows;
        let value: T;
        try {
          value = await work(query);
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        retry = repeatable(value);
        await client.query('COMMIT');
        return value;
      },
    );
  }

  /**
   * Deletes expired rows of every table, `batchSize` rows per statement (short locks, rows being written are
   * skipped), at most `maxBatches` statements per table. Returns how many rows went.
   */
  async sweep(batchSize: number, maxBatches: number): Promise<number> {
    let deleted = 0;
    // Chord parts last: those of the chords whose sizes have just gone go in the same sweep.
    for (const statement of [this.sql.sweepResults, this.sql.sweepGroups, this.sql.sweepChordParts]) {
      for (let batch = 0; batch < maxBatches; batch++) {
        const { rowCount } = await this.command('deleting expired rows', true, statement, [batchSize]);
        deleted += rowCount ?? 0;
        if ((rowCount ?? 0) < batchSize) break;
      }
    }
    return deleted;
  }

  /** Closes every connection (waits for commands under way, each bounded by `queryTimeoutMs`). */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }

  private async command<R extends QueryResultRow>(
    doing: string,
    idempotent: boolean,
    text: string,
    values: unknown[],
  ): Promise<QueryResult<R>> {
    await this.migrate();
    return this.withClient(doing, idempotent, (client) => client.query<R>(text, values));
  }

  /**
   * Runs `work` on a pooled connection. A connection that cannot be had fails at once (within
   * `connectTimeoutMs`); work that fails because its connection had died is done again on another one when
   * `idempotent` (asked after the failure when a function; at most `poolSize` times). A connection that saw
   * any error is closed, not reused (a timed-out command may still be running on it). Tables dropped behind
   * our back are created again by the next command.
   */
  private async withClient<T>(
    doing: string,
    idempotent: boolean | (() => boolean),
    work: (client: PoolClient) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.checkout(doing);
      // While checked out, the pool no longer listens for the client's 'error' event (a session ended by the
      // server between two commands emits one): unheard, it would end the process. The next command fails.
      const ignore = (): void => undefined;
      client.on('error', ignore);
      try {
        const result = await work(client);
        client.release();
        return result;
      } catch (error) {
        client.release(true);
        if (isMissingTable(error)) this.schema = undefined;
        // Every idle connection may have died at once (a server restart): each is discarded on first use.
        const retry =
          (typeof idempotent === 'boolean' ? idempotent : idempotent()) &&
          attempt <= this.settings.poolSize &&
          isLostConnection(error) &&
          !this.ended;
        if (!retry) {
          throw backendError(this.settings, doing, error);
        }
        this.logger.info(
          `PostgreSQL connection to ${this.settings.displayUrl} was lost while ${doing} (${describeError(error)}); doing it again`,
        );
      } finally {
        client.removeListener('error', ignore);
      }
    }
  }

  private async checkout(doing: string): Promise<PoolClient> {
    if (this.ended) {
      throw new TransportError(`PostgreSQL result backend ${this.settings.displayUrl} is closed (${doing})`);
    }
    const started = Date.now();
    try {
      return await this.pool.connect();
    } catch (error) {
      const timedOut = Date.now() - started >= this.settings.connectTimeoutMs * 0.9;
      const hint = timedOut
        ? `no connection within connectTimeoutMs (${this.settings.connectTimeoutMs} ms): `
        : '';
      throw backendError(this.settings, `connecting (${doing})`, error, hint);
    }
  }
}

function statements({ tables }: PostgresSettings) {
  const results = quoted(tables.results);
  const groups = quoted(tables.groups);
  const parts = quoted(tables.chordParts);
  const unexpired = '(expires_at IS NULL OR expires_at > now())';
  return {
    // $6: the ready states. A ready state may replace anything; a non-ready one only a non-ready or expired row.
    write: `WITH stored AS (
  INSERT INTO ${results} AS t (task_id, status, document, date_done, updated_at, expires_at)
  VALUES ($1, $2, $3::json, $4::timestamptz, now(), now() + $5::double precision * interval '1 second')
  ON CONFLICT (task_id) DO UPDATE
    SET status = EXCLUDED.status, document = EXCLUDED.document, date_done = EXCLUDED.date_done,
        updated_at = EXCLUDED.updated_at, expires_at = EXCLUDED.expires_at
    WHERE EXCLUDED.status = ANY($6::text[]) OR t.status <> ALL($6::text[]) OR t.expires_at <= now()
  RETURNING t.task_id
)
SELECT pg_notify($7, CASE WHEN octet_length(task_id) <= $8 THEN task_id ELSE '' END) FROM stored`,
    read: `SELECT task_id AS "taskId", document::text AS document, xmin::text AS version
FROM ${results} WHERE task_id = $1 AND ${unexpired}`,
    readMany: `SELECT task_id AS "taskId", document::text AS document, xmin::text AS version
FROM ${results} WHERE task_id = ANY($1::text[]) AND ${unexpired}`,
    delete: `DELETE FROM ${results} WHERE task_id = $1`,
    sweepResults: `DELETE FROM ${results} WHERE task_id IN (
  SELECT task_id FROM ${results} WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)`,
    sweepGroups: `DELETE FROM ${groups} WHERE group_id IN (
  SELECT group_id FROM ${groups} WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)`,
    // A part lives as long as its chord's size does (each part makes that live longer, as a header may take
    // longer than resultExpires): its own expires_at counts once the size is gone (fired, expired, never made).
    sweepChordParts: `DELETE FROM ${parts} WHERE (group_id, task_id) IN (
  SELECT p.group_id, p.task_id FROM ${parts} AS p
  WHERE p.expires_at <= now() AND NOT EXISTS (
    SELECT 1 FROM ${groups} AS g WHERE g.group_id = p.group_id AND (g.expires_at IS NULL OR g.expires_at > now()))
  LIMIT $1 FOR UPDATE OF p SKIP LOCKED)`,
  };
}
