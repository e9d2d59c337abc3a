import { getTaskLogger } from '@queue/core/transport';
import { ResultStore } from './result-store';
import { parsePostgresUrl, type TableNames } from './settings';

/**
 * Creates the backend's tables for `url` (its `tablePrefix` included) when they are missing, then closes its
 * connection: for a deploy step run by a role that may create tables, when the App's role may not. Safe to
 * run from several processes at once and again later. Returns the table names.
 * @throws TransportError (password masked) when the database cannot be reached or refuses the DDL.
 */
export async function migrate(url: string): Promise<TableNames> {
  const settings = parsePostgresUrl(url);
  const store = new ResultStore({ ...settings, poolSize: 1 }, getTaskLogger('queue.postgres'));
  try {
    await store.migrate();
  } finally {
    await store.end();
  }
  return settings.tables;
}
