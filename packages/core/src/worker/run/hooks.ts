import { isError } from '../../errors';
import type { Logger } from '../../logging/logger';
import { States, type TaskEnvelope } from '../../protocol/message';
import { tracebackOf } from '../../protocol/result-codec';
import { BaseTask, type ExceptionInfo } from '../../task/base-task';

function exceptionInfo(error: Error): ExceptionInfo {
  return { exception: error, type: error.name, traceback: tracebackOf(error) ?? '' };
}

type HookName = 'onSuccess' | 'onFailure' | 'onRetry' | 'afterReturn';

/** Whether a task class overrides a hook (the base class's are no-ops, not worth a call per run). */
function overrides(task: BaseTask, hook: HookName): boolean {
  return task[hook] !== BaseTask.prototype[hook];
}

/** A task's `onSuccess`/`onFailure`/`onRetry`/`afterReturn` for one run: a hook that throws is logged, never fatal. */
export class RunHooks {
  private readonly args: unknown[];
  private readonly kwargs: Record<string, unknown>;

  constructor(
    private readonly task: BaseTask,
    private readonly envelope: TaskEnvelope,
    private readonly logger: Logger,
  ) {
    this.args = envelope.args as unknown[];
    this.kwargs = envelope.kwargs as Record<string, unknown>;
  }

  async succeeded(value: unknown): Promise<void> {
    const { task, envelope, args, kwargs } = this;
    if (overrides(task, 'onSuccess')) {
      await this.call('onSuccess', () => task.onSuccess(value, envelope.id, args, kwargs));
    }
    if (overrides(task, 'afterReturn')) {
      await this.call('afterReturn', () =>
        task.afterReturn(States.SUCCESS, value, envelope.id, args, kwargs, null),
      );
    }
  }

  async failed(error: Error): Promise<void> {
    const { task, envelope, args, kwargs } = this;
    const einfo = exceptionInfo(error);
    if (overrides(task, 'onFailure')) {
      await this.call('onFailure', () => task.onFailure(error, envelope.id, args, kwargs, einfo));
    }
    if (overrides(task, 'afterReturn')) {
      await this.call('afterReturn', () =>
        task.afterReturn(States.FAILURE, error, envelope.id, args, kwargs, einfo),
      );
    }
  }

  async retried(cause: Error): Promise<void> {
    const { task, envelope, args, kwargs } = this;
    if (overrides(task, 'onRetry')) {
      await this.call('onRetry', () => task.onRetry(cause, envelope.id, args, kwargs, exceptionInfo(cause)));
    }
  }

  private async call(name: HookName, hook: () => void | Promise<void>): Promise<void> {
    try {
      await hook();
    } catch (error) {
      const message = isError(error) ? error.message : String(error);
      this.logger.error(`${name} hook of ${this.envelope.task}[${this.envelope.id}] raised: ${message}`, {
        error,
      });
    }
  }
}
