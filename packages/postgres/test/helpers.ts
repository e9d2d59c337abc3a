import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { App, type AppOptions } from '@queue/core';
import '../src';

/** The local PostgreSQL (tests touch only tables of their own, dropped afterwards). */
export const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** Tables no other test (or earlier run) uses, and the URL of a backend on them. */
export interface TestTables {
  readonly prefix: string;
  readonly results: string;
  readonly groups: string;
  readonly chordParts: string;
  /** `application_name` of every connection of backends on these tables (to find or end them). */
  readonly applicationName: string;
  /** The backend URL, in the given scheme (`postgresql` by default). */
  url(scheme?: 'postgresql' | 'postgres' | 'db+postgresql', extra?: string): string;
}

export function uniqueTables(): TestTables {
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  const prefix = `it_${id}_`;
  const applicationName = `it-${id}`;
  return {
    prefix,
    results: `${prefix}task_results`,
    groups: `${prefix}group_counters`,
    chordParts: `${prefix}chord_parts`,
    applicationName,
    url: (scheme = 'postgresql', extra = '') =>
      `${PG_URL.replace(/^[a-z+]+:/, `${scheme}:`)}?tablePrefix=${prefix}&application_name=${applicationName}${extra}`,
  };
}

/** A broker name of its own: Apps given it share a memory:// broker (the worker's and the callers'). */
export function uniqueBroker(): string {
  return `memory://pg-${randomUUID().slice(0, 8)}`;
}

/** An App with the postgresql:// backend on `tables`; not the current App, so tests stay independent. */
export function pgApp(
  tables: TestTables,
  broker: string,
  options: Partial<AppOptions> = {},
  scheme?: 'postgresql' | 'postgres' | 'db+postgresql',
): App {
  return new App({
    name: `it-${tables.prefix}`,
    broker,
    resultBackend: tables.url(scheme),
    setAsCurrent: false,
    ...options,
  });
}

/** A plain pg connection for inspecting, planting rows and cleaning up (not the code under test). */
export class Db {
  private constructor(readonly client: Client) {}

  static async open(): Promise<Db> {
    const client = new Client({ connectionString: PG_URL, application_name: 'it-admin' });
    client.on('error', () => undefined);
    await client.connect();
    return new Db(client);
  }

  async rows<R extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.client.query<R>(text, values)).rows;
  }

  async row(tables: TestTables, taskId: string): Promise<Record<string, unknown> | undefined> {
    const rows = await this.rows(
      `SELECT status, document::text AS document, date_done, expires_at FROM "${tables.results}" WHERE task_id = $1`,
      [taskId],
    );
    return rows[0];
  }

  /** Backend pid of the LISTEN connection of the backends on `tables`, if any. */
  async listenerPid(tables: TestTables): Promise<number | undefined> {
    const rows = await this.rows<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = $2`,
      [tables.applicationName, `LISTEN "${tables.results}"`],
    );
    return rows[0]?.pid;
  }

  /** Ends sessions from the server side (as a restart or an administrator would). */
  async terminate(condition: { pid: number } | { applicationName: string }): Promise<number> {
    const rows =
      'pid' in condition
        ? await this.rows(`SELECT pg_terminate_backend($1)`, [condition.pid])
        : await this.rows(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
            [condition.applicationName],
          );
    return rows.length;
  }

  async drop(tables: TestTables): Promise<void> {
    await this.client.query(
      `DROP TABLE IF EXISTS "${tables.results}", "${tables.groups}", "${tables.chordParts}"`,
    );
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** Polls `condition` every 25 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise the test resolves when it wants (a task waits on it between two states). */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Consecutive repeats collapsed: a listener may see the current state twice when it starts following. */
export function distinct(states: readonly string[]): string[] {
  return states.filter((state, index) => index === 0 || states[index - 1] !== state);
}
