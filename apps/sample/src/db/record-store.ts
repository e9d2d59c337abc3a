import { DatabaseError, type Queryable } from './database';

/** The seed's TaskModel: a row that knows the id of the task processing it. */
export interface TaskRecord {
  id: number;
  title: string;
  taskId: string;
  createdAt: Date;
}

interface Row {
  id: number;
  title: string;
  task_id: string;
  created_at: Date;
}

/** Longest title accepted (the column enforces it too). */
export const MAX_TITLE_LENGTH = 200;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function toRecord(row: Row): TaskRecord {
  return { id: row.id, title: row.title, taskId: row.task_id, createdAt: new Date(row.created_at) };
}

/**
 * The records table. The table name is configurable so tests against a shared PostgreSQL use their own
 * table; it is checked to be a plain identifier because it is spliced into the SQL.
 */
export class RecordStore {
  readonly table: string;

  constructor(
    private readonly db: Queryable,
    table = 'task_model',
  ) {
    if (!IDENTIFIER.test(table)) throw new DatabaseError(`not a valid table name: ${JSON.stringify(table)}`);
    this.table = table;
  }

  /** Creates the table when missing (run at start-up). */
  async ensureSchema(): Promise<void> {
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND ${MAX_TITLE_LENGTH}),
         task_id uuid NOT NULL UNIQUE,
         created_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  }

  /** Inserts a record; pass the transaction to make it part of one. */
  async insert(title: string, taskId: string, tx: Queryable = this.db): Promise<TaskRecord> {
    const [row] = await tx.query<Row>(
      `INSERT INTO ${this.table} (title, task_id) VALUES ($1, $2) RETURNING id, title, task_id, created_at`,
      [title, taskId],
    );
    return toRecord(row!);
  }

  async get(id: number): Promise<TaskRecord | undefined> {
    const [row] = await this.db.query<Row>(
      `SELECT id, title, task_id, created_at FROM ${this.table} WHERE id = $1`,
      [id],
    );
    return row && toRecord(row);
  }

  async findByTaskId(taskId: string): Promise<TaskRecord | undefined> {
    const [row] = await this.db.query<Row>(
      `SELECT id, title, task_id, created_at FROM ${this.table} WHERE task_id = $1`,
      [taskId],
    );
    return row && toRecord(row);
  }

  /** The newest records first. */
  async list(limit = 100): Promise<TaskRecord[]> {
    const rows = await this.db.query<Row>(
      `SELECT id, title, task_id, created_at FROM ${this.table} ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map(toRecord);
  }

  /** Drops the table (tests clean up with it). */
  async drop(): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
