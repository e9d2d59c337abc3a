import type { ClientBase } from 'pg';
import type { TableNames } from './settings';

/** A name checked by `tableNames` (a-z, 0-9, _), quoted. */
export function quoted(name: string): string {
  return `"${name}"`;
}

/**
 * The DDL of one backend's tables, safe to run again (IF NOT EXISTS). The state document is `json`, not
 * `jsonb`: it keeps the text exactly as written (Celery's key order, numbers as sent) and accepts every
 * string a task may return, where `jsonb` refuses `\u0000`.
 */
export function schemaStatements(tables: TableNames): string[] {
  const results = quoted(tables.results);
  const groups = quoted(tables.groups);
  const parts = quoted(tables.chordParts);
  return [
    `CREATE TABLE IF NOT EXISTS ${results} (
  task_id text PRIMARY KEY,
  status text NOT NULL,
  document json NOT NULL,
  date_done timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz
)`,
    `CREATE INDEX IF NOT EXISTS ${quoted(`${tables.results}_expires_at`)} ON ${results} (expires_at) WHERE expires_at IS NOT NULL`,
    `CREATE TABLE IF NOT EXISTS ${groups} (
  group_id text PRIMARY KEY,
  count bigint NOT NULL,
  expires_at timestamptz
)`,
    `CREATE INDEX IF NOT EXISTS ${quoted(`${tables.groups}_expires_at`)} ON ${groups} (expires_at) WHERE expires_at IS NOT NULL`,
    `CREATE TABLE IF NOT EXISTS ${parts} (
  group_id text NOT NULL,
  task_id text NOT NULL,
  group_index bigint,
  state text NOT NULL,
  result json NOT NULL,
  expires_at timestamptz,
  PRIMARY KEY (group_id, task_id)
)`,
    `CREATE INDEX IF NOT EXISTS ${quoted(`${tables.chordParts}_expires_at`)} ON ${parts} (expires_at) WHERE expires_at IS NOT NULL`,
  ];
}

/**
 * True when every table exists (in the connection's `search_path`). Tables made by an earlier version lack
 * the chord parts table: it is created on first use then, like a whole schema.
 */
export async function schemaExists(client: ClientBase, tables: TableNames): Promise<boolean> {
  const { rows } = await client.query<{ present: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL AS present',
    [tables.results, tables.groups, tables.chordParts],
  );
  return rows[0]?.present === true;
}

/**
 * Creates the tables when missing, in one transaction holding an advisory lock on their name, so processes
 * starting together do not race (concurrent CREATE TABLE IF NOT EXISTS can fail on the catalog's unique
 * index). Existing tables are left alone first: a role without CREATE rights can use tables made by `migrate`.
 */
export async function createSchema(client: ClientBase, tables: TableNames): Promise<void> {
  if (await schemaExists(client, tables)) return;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `queue.postgres.schema:${tables.results}`,
    ]);
    for (const statement of schemaStatements(tables)) await client.query(statement);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
