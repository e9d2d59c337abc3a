import { QueueError } from '../errors';
import type { CompiledTaskOptions } from './options';
import type { PayloadSchema } from './payload-schema';
import type { TaskHost } from './task-host';

/** What a task instance knows once an App has registered it. */
export interface TaskBinding {
  readonly host: TaskHost;
  readonly options: CompiledTaskOptions;
  /** Parameter names of the body (for keyword arguments). */
  readonly parameterNames: readonly (string | undefined)[];
  /** The schema of each positional argument (`payload`, or `@ValidateArgs()` DTO classes), validated before the run. */
  readonly parameterTypes: readonly (PayloadSchema | undefined)[];
  /** The body can see its run (`this.signal`, `this.request`): a class task or a bound function task. */
  readonly seesRun: boolean;
}

const bindings = new WeakMap<object, TaskBinding>();

export function bindTask(task: object, binding: TaskBinding): void {
  bindings.set(task, binding);
}

export function bindingOf(task: object): TaskBinding {
  const binding = bindings.get(task);
  if (!binding) {
    throw new QueueError(
      `${task.constructor.name} is not registered in an App: use app.getTask(...) to get its instance`,
    );
  }
  return binding;
}
