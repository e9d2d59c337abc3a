import { PGlite } from '@electric-sql/pglite';
import { TransactionRolledBackError, type Database, type Queryable } from './database';

/**
 * PostgreSQL compiled to WebAssembly, running inside this process: the same SQL as the real server with
 * nothing to install. In memory unless `dataDir` is given. One connection: PGlite queues concurrent
 * transactions, which is fine for a sample. Opening takes a few seconds (it runs initdb).
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite';

  private constructor(private readonly db: PGlite) {}

  static async open(dataDir?: string): Promise<PgliteDatabase> {
    return new PgliteDatabase(await PGlite.create(dataDir ? { dataDir } : {}));
  }

  async query<R extends object>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.db.query<R>(text, [...params])).rows;
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let committing = false;
    try {
      // PGlite issues BEGIN/COMMIT, and ROLLBACK when `work` throws.
      return await this.db.transaction(async (tx) => {
        const value = await work({
          query: async <R extends object>(text: string, params: readonly unknown[] = []) =>
            (await tx.query<R>(text, [...params])).rows,
        });
        committing = true;
        return value;
      });
    } catch (error) {
      // PGlite reports a COMMIT that became a ROLLBACK with an untyped error; name it as PgDatabase does.
      if (committing && /rolled back instead of committed/i.test((error as Error)?.message ?? '')) {
        throw new TransactionRolledBackError({ cause: error });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
