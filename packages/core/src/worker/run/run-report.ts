import { NotRegistered, ResultTooLargeError, TaskRevokedError } from '../../errors';
import { States, type JsonValue, type TaskEnvelope, type TaskState } from '../../protocol/message';
import { serializeError, tracebackOf } from '../../protocol/result-codec';
import type { ReplyTarget, ResultBackend } from '../../result/result-backend';

/**
 * A task body's return value (or a state's meta) as JSON, what a Celery client can read; undefined is null.
 * @throws ResultTooLargeError past `maxBytes`; TypeError when it cannot be JSON (a cycle, a BigInt).
 */
export function toJson(value: unknown, maxBytes = Infinity): JsonValue {
  if (value === undefined) return null;
  const text = JSON.stringify(value) ?? 'null';
  // Characters first (cheap); bytes only when a UTF-8 expansion could cross the limit.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text);
    if (bytes > maxBytes) throw new ResultTooLargeError(bytes, maxBytes);
  }
  return JSON.parse(text) as JsonValue;
}

/**
 * Every state of one run of one task message, from RECEIVED to its outcome, goes through here to the
 * result backend: nothing at all when the result is ignored. A report that cannot be delivered rejects.
 */
export class RunReport {
  private readonly target: ReplyTarget;

  constructor(
    private readonly backend: ResultBackend,
    private readonly envelope: TaskEnvelope,
    /** `ignoreResult` of the task or of the message: report nothing. */
    readonly ignored: boolean,
    /** Largest result or meta stored, as JSON bytes (the App's `maxResultBytes`). */
    readonly maxResultBytes: number = Infinity,
  ) {
    this.target = { taskId: envelope.id, replyTo: envelope.replyTo, correlationId: envelope.correlationId };
  }

  received(): Promise<void> {
    return this.state(States.RECEIVED, null);
  }

  started(hostname: string): Promise<void> {
    return this.state(States.STARTED, { pid: process.pid, hostname });
  }

  /** A state the task reports itself (`updateState('PROGRESS', { percent })`). */
  progress(state: TaskState, meta: unknown): Promise<void> {
    return this.state(state, toJson(meta, this.maxResultBytes));
  }

  retry(exc: Error | undefined): Promise<void> {
    return this.state(States.RETRY, exc ? this.error(exc) : null, tracebackOf(exc));
  }

  failure(error: Error): Promise<void> {
    return this.state(States.FAILURE, this.error(error), tracebackOf(error) ?? '');
  }

  success(result: JsonValue): Promise<void> {
    return this.state(States.SUCCESS, result);
  }

  /** No task of the message's name is registered on this worker. */
  unknownTask(): Promise<void> {
    return this.state(States.FAILURE, this.error(new NotRegistered(this.envelope.task)));
  }

  /** Revoked or expired before it ran. */
  revoked(reason: string): Promise<void> {
    return this.state(States.REVOKED, this.error(new TaskRevokedError(reason)));
  }

  private error(error: Error): JsonValue {
    return serializeError(error) as unknown as JsonValue;
  }

  private async state(state: TaskState, result: JsonValue, traceback: string | null = null): Promise<void> {
    if (this.ignored) return;
    await this.backend.report(this.target, {
      taskId: this.envelope.id,
      state,
      result,
      traceback,
      children: null,
      parentId: this.envelope.parentId,
      groupId: this.envelope.group,
    });
  }
}
