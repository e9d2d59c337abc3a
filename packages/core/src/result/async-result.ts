import { QueueError, TaskRevokedError, TimeoutError, type RemoteTaskError } from '../errors';
import {
  EXCEPTION_STATES,
  READY_STATES,
  States,
  type StateMessage,
  type TaskState,
} from '../protocol/message';
import { deserializeError } from '../protocol/result-codec';
import { holdProcess } from '../runtime/process-hold';
import type { ResultBackend } from './result-backend';

/** What `revoke()` needs (the App's control). */
export interface Revoker {
  revoke(taskId: string, options: { terminate?: boolean; signal?: string | number }): Promise<unknown>;
}

/** A task's custom states and the meta each reports (`{ PROGRESS: { percent: number } }`). */
export type DeclaredStates = Record<string, unknown>;

/** No declared states (the default): any state name, `info` unknown. */
export type NoStates = Record<never, never>;

/** A state as a task without declared states reports it. */
export interface AnyStateChange {
  /** The state reported. */
  readonly state: TaskState;
  /** Meta of a custom state, the value of SUCCESS, or a `RemoteTaskError` for RETRY/FAILURE/REVOKED. */
  readonly info: unknown;
}

/** A built-in or declared state with its `info`. */
export interface TypedStateChange<TState extends string, TInfo> {
  /** The state reported. */
  readonly state: TState;
  /** What comes with it. */
  readonly info: TInfo;
}

/**
 * One observed state of a task. Without declared states, `info` is `unknown`: the meta of a custom state,
 * the value of SUCCESS, or a `RemoteTaskError` for RETRY/FAILURE/REVOKED. When the task declares its states
 * (`BaseTask<Args, Result, { PROGRESS: { percent: number } }>`), `info` is typed by the state:
 * `if (change.state === 'PROGRESS') change.info.percent`.
 */
export type StateChange<T = unknown, TStates extends DeclaredStates = NoStates> = [keyof TStates] extends [
  never,
]
  ? AnyStateChange
  : | TypedStateChange<'SUCCESS', T>
    | TypedStateChange<'RETRY' | 'FAILURE' | 'REVOKED', TaskError>
    | TypedStateChange<'PENDING' | 'RECEIVED' | 'STARTED', unknown>
    | { [K in keyof TStates & string]: TypedStateChange<K, TStates[K]> }[keyof TStates & string];

/** Options of `AsyncResult.get()` and `GroupResult.get()`. */
export interface GetOptions {
  /** Seconds to wait before rejecting with `TimeoutError`. @default wait forever */
  timeout?: number;
  /** Reject with the task's error on FAILURE/REVOKED (`false`: resolve with the error instead). @default true */
  propagate?: boolean;
}

/** What a failed or revoked task's `get({ propagate: false })` resolves with. */
export type TaskError = RemoteTaskError | TaskRevokedError;

/** A stored state as the change a caller sees (its `info` decoded, typed by the caller's task). */
function changeOf<T, TStates extends DeclaredStates>(state: StateMessage): StateChange<T, TStates> {
  return { state: state.state, info: infoOf(state) } as StateChange<T, TStates>;
}

function infoOf(state: StateMessage): unknown {
  return EXCEPTION_STATES.has(state.state)
    ? deserializeError(state.result, state.traceback, state.taskId)
    : state.result;
}

/**
 * The handle of a sent task: its state as last reported, and its result once ready.
 * With `rpc://`, only the App that sent the task receives its states.
 */
export class AsyncResult<T = unknown, TStates extends DeclaredStates = NoStates> {
  constructor(
    /** The task id. */
    readonly id: string,
    private readonly backend: ResultBackend,
    /** The App's remote control, for `revoke()`. */
    private readonly control?: Revoker,
  ) {}

  /**
   * Revokes this task across the fleet: discarded (REVOKED) wherever it is still queued; with `terminate`,
   * stopped if running (its AbortSignal fires, the state becomes REVOKED, no retry follows).
   */
  async revoke(options: { terminate?: boolean; signal?: string | number } = {}): Promise<void> {
    if (!this.control) throw new QueueError('this AsyncResult was not created by an App: it cannot revoke');
    await this.control.revoke(this.id, options);
  }

  private get latest(): StateMessage | undefined {
    return this.backend.latest(this.id);
  }

  /** PENDING until a worker reports something. */
  get state(): TaskState {
    return this.latest?.state ?? States.PENDING;
  }

  /** Meta of the current custom state, the value of SUCCESS, or the error of RETRY/FAILURE/REVOKED. */
  get info(): unknown {
    const latest = this.latest;
    return latest ? infoOf(latest) : null;
  }

  /** The traceback text of a failure, if any. */
  get traceback(): string | null {
    return this.latest?.traceback ?? null;
  }

  /** SUCCESS, FAILURE or REVOKED: nothing more will happen. */
  ready(): boolean {
    return READY_STATES.has(this.state);
  }

  /** The state is SUCCESS (as last seen: see `state`). */
  successful(): boolean {
    return this.state === States.SUCCESS;
  }

  /** The state is FAILURE (as last seen: see `state`). */
  failed(): boolean {
    return this.state === States.FAILURE;
  }

  /**
   * Reads the task's stored state (from any process with redis:// or postgresql://) and returns it;
   * afterwards `state` and `info` show it too. PENDING when nothing is stored.
   * @throws CorruptResultError when what is stored is not a state document.
   */
  async refresh(): Promise<StateChange<T, TStates>> {
    const stored = (await this.backend.fetch(this.id)) ?? this.latest;
    return changeOf<T, TStates>(
      stored ?? { taskId: this.id, state: States.PENDING, result: null, traceback: null, children: null },
    );
  }

  /** Removes the task's stored state (Celery's `forget()`); `state` is PENDING again where it was read from the store. */
  forget(): Promise<void> {
    return this.backend.forget(this.id);
  }

  /** Calls `listener` for every state reported from now on. Returns the function that stops it. */
  onState(listener: (change: StateChange<T, TStates>) => void): () => void {
    return this.backend.subscribe(this.id, (state) => listener(changeOf<T, TStates>(state)));
  }

  /**
   * Waits for the task to be ready. SUCCESS resolves with its value; FAILURE rejects with `RemoteTaskError`
   * (type, message and traceback of the original error); REVOKED rejects with `TaskRevokedError`.
   * @throws TimeoutError when `timeout` seconds pass first.
   */
  get(options?: GetOptions & { propagate?: true }): Promise<T>;
  /** With `propagate: false`, FAILURE and REVOKED resolve with the error instead of rejecting. */
  get(options: GetOptions & { propagate: false }): Promise<T | TaskError>;
  get(options: GetOptions): Promise<T | TaskError>;
  get({ timeout, propagate = true }: GetOptions = {}): Promise<T | TaskError> {
    return new Promise<T | TaskError>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let unsubscribe: () => void = () => undefined;
      // A result may take a reconnect to arrive: the process must not end while it is awaited.
      const release = holdProcess();
      const settle = (state: StateMessage): boolean => {
        if (!READY_STATES.has(state.state)) return false;
        unsubscribe();
        release();
        if (timer) clearTimeout(timer);
        if (state.state === States.SUCCESS) resolve(state.result as T);
        else {
          const error =
            state.state === States.REVOKED
              ? new TaskRevokedError(
                  `Task ${this.id} was revoked: ${deserializeError(state.result, null, this.id).excMessage}`,
                )
              : deserializeError(state.result, state.traceback, this.id);
          if (propagate) reject(error);
          else resolve(error);
        }
        return true;
      };
      unsubscribe = this.backend.subscribe(this.id, settle);
      const latest = this.latest;
      if (latest && settle(latest)) return;
      // Stored before this call (another process, an earlier run of this one): read it once.
      this.backend.fetch(this.id).then(
        (stored) => stored && settle(stored),
        (error: unknown) => {
          unsubscribe();
          release();
          if (timer) clearTimeout(timer);
          reject(error as Error);
        },
      );
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          unsubscribe();
          release();
          reject(new TimeoutError(this.id, timeout));
        }, timeout * 1000);
      }
    });
  }

  /**
   * Iterates state changes as they happen (starting with the current one, if any), ending after a ready state;
   * the same state with the same meta twice in a row is reported once.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<StateChange<T, TStates>> {
    const queue: StateMessage[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.backend.subscribe(this.id, (state) => {
      queue.push(state);
      wake?.();
    });
    try {
      const latest = this.latest ?? (await this.backend.fetch(this.id));
      if (latest && queue.length === 0) queue.push(latest);
      let previous: string | undefined;
      for (;;) {
        if (queue.length === 0) {
          // Held only while waiting: an iterator abandoned at a `yield` keeps nothing alive.
          const release = holdProcess();
          while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          release();
        }
        const state = queue.shift()!;
        // A store may hand the same state over twice (read when following starts, and announced).
        const key = `${state.state}\u0000${JSON.stringify(state.result)}`;
        if (key === previous) continue;
        previous = key;
        yield changeOf<T, TStates>(state);
        if (READY_STATES.has(state.state)) return;
      }
    } finally {
      unsubscribe();
    }
  }
}
