import type { MessagePort } from 'node:worker_threads';
import type { TaskRequest } from '../../task/request';
import type { TransferredError } from './error-transfer';

/** Which App a thread loads: the module the worker was started with, and the export holding the App. */
export interface ThreadAppModule {
  /** Absolute path (or resolvable name) of the module exporting the App. */
  readonly module: string;
  /** The export holding the App. @default 'app', then the default export */
  readonly exportName?: string;
}

/** One run handed to a thread. */
export interface ThreadTask {
  taskName: string;
  args: unknown[];
  request: TaskRequest;
  /** State reports go up this port; the soft time limit comes down it. */
  port: MessagePort;
}

export type ThreadResult = { ok: true; value: unknown } | { ok: false; error: TransferredError };

/** Messages from a thread to the worker. */
export type UpMessage = { type: 'state'; state: string; meta: unknown };
/** Messages from the worker to a thread. */
export type DownMessage = { type: 'soft-limit'; seconds: number } | { type: 'terminate'; signum: number };
