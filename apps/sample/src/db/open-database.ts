import { DatabaseError, type Database } from './database';
import { PgDatabase } from './pg-database';
import { PgliteDatabase } from './pglite-database';

export interface DatabaseSettings {
  /** `postgres://…`: use that server; absent: the embedded PGlite. */
  databaseUrl?: string;
  /** Where PGlite keeps its files; absent: in memory (records vanish on exit). */
  pgliteDataDir?: string;
}

/**
 * PostgreSQL when a URL is given, else the embedded PGlite: one SQL dialect either way.
 * @throws DatabaseError when the server cannot be reached.
 */
export async function openDatabase(settings: DatabaseSettings): Promise<Database> {
  if (!settings.databaseUrl) return PgliteDatabase.open(settings.pgliteDataDir);
  const db = new PgDatabase({ connectionString: settings.databaseUrl, max: 10 });
  try {
    await db.query('SELECT 1'); // fail at start-up, not at the first request
    return db;
  } catch (error) {
    await db.close().catch(() => undefined);
    throw new DatabaseError(`cannot connect to DATABASE_URL: ${(error as Error).message}`, { cause: error });
  }
}
