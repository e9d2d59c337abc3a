/** Runs SQL with `$1`-style parameters and returns the rows (the one dialect both backends speak). */
export interface Queryable {
  query<R extends object>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

/** A PostgreSQL database: real (`pg`) or embedded (PGlite). */
export interface Database extends Queryable {
  /** What this is, for logs: `postgres` or `pglite`. */
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in a transaction: COMMIT when it resolves, ROLLBACK (and rethrow) when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The database could not be opened or its schema created. */
export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

/**
 * COMMIT turned into a ROLLBACK: a statement inside the transaction failed and the error was swallowed,
 * so PostgreSQL had already aborted the transaction. Nothing was written.
 */
export class TransactionRolledBackError extends Error {
  override name = 'TransactionRolledBackError';
  constructor(options?: ErrorOptions) {
    super('the transaction was rolled back instead of committed (a statement in it had failed)', options);
  }
}
