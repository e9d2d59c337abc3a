import type { App } from '@queue/core';
import type { Database } from './db/database';
import type { RecordStore, TaskRecord } from './db/record-store';
import { sendOnCommit, type SendableTask } from './db/send-on-commit';
import { Manual } from './tasks';
import { taskSnapshot, type TaskSnapshot } from './web/task-snapshot';

/** A record with the latest state of its task. */
export interface RecordView extends TaskRecord {
  task: TaskSnapshot;
}

/** Creating and listing records: the seed's admin `save_model`, plus what the page shows. */
export class RecordService {
  constructor(
    private readonly db: Database,
    private readonly store: RecordStore,
    private readonly app: App,
    private readonly task: SendableTask<[number], number> = Manual,
  ) {}

  /** Inserts the record with its task id and sends `manual(record.id)` once the insert has committed. */
  async createRecord(title: string): Promise<RecordView> {
    const { value: record } = await sendOnCommit(this.db, this.task, async (tx, taskId) => {
      const record = await this.store.insert(title, taskId, tx);
      return { value: record, args: [record.id] };
    });
    return this.view(record);
  }

  /** The newest records, each with its task's state. */
  async listRecords(limit?: number): Promise<RecordView[]> {
    return Promise.all((await this.store.list(limit)).map((record) => this.view(record)));
  }

  private async view(record: TaskRecord): Promise<RecordView> {
    return { ...record, task: await taskSnapshot(this.app, record.taskId) };
  }
}
