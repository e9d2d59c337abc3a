import { Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import { TransactionRolledBackError, type Database, type Queryable } from './database';

/** PostgreSQL through a `pg` connection pool; each transaction holds one pooled connection. */
export class PgDatabase implements Database {
  readonly kind = 'postgres';
  private readonly pool: Pool;

  constructor(config: PoolConfig) {
    this.pool = new Pool(config);
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async query<R extends object>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return rowsOf<R>(this.pool, text, params);
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let healthy = false;
    try {
      await client.query('BEGIN');
      healthy = true;
      const tx: Queryable = { query: (text, params = []) => rowsOf(client, text, params) };
      try {
        const value = await work(tx);
        const commit = await client.query('COMMIT');
        // PostgreSQL answers COMMIT of an aborted transaction with a ROLLBACK, not an error.
        if (commit.command === 'ROLLBACK') throw new TransactionRolledBackError();
        return value;
      } catch (error) {
        // After a failed COMMIT the server has already ended the transaction and ROLLBACK is a no-op;
        // if ROLLBACK itself fails the connection is unusable and must not go back to the pool.
        await client.query('ROLLBACK').catch(() => {
          healthy = false;
        });
        throw error;
      }
    } finally {
      client.release(!healthy);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function rowsOf<R extends object>(
  target: Pool | PoolClient,
  text: string,
  params: readonly unknown[],
): Promise<R[]> {
  const result = await target.query<R & QueryResultRow>(text, [...params]);
  return result.rows;
}
