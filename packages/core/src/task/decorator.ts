import type { BaseTask, TaskClass } from './base-task';
import { sharedTasks, type TaskDefinition } from './definition';
import { compileTaskOptions, optionFieldsOf, validateTaskOptions, type TaskOptions } from './options';

/**
 * Registers a `BaseTask` subclass as a task in every App, with options that take precedence over its fields.
 * Options are validated here, when the class is defined: an error names the class and the bad option.
 */
export function Task(options: TaskOptions = {}) {
  return <C extends new () => BaseTask>(target: C): void => {
    const owner = target.name;
    validateTaskOptions(owner, options);
    // Celery instantiates a task class when it registers it; doing the same here checks the fields together
    // with the decorator options (e.g. a softTimeLimit field above a decorator timeLimit) at definition time.
    let fields: TaskOptions = {};
    try {
      fields = optionFieldsOf(new target());
    } catch {
      // A constructor that needs its environment is checked again when an App creates the instance.
    }
    compileTaskOptions(owner, options, fields, {}, owner);
    sharedTasks.add(classDefinition(target as unknown as TaskClass, options, fields.name));
  };
}

/**
 * Marks `run` so that TypeScript records its parameter types: arguments whose class carries class-validator
 * rules are then turned into that class and validated before every run (and before sending).
 */
export function ValidateArgs(): MethodDecorator {
  return () => undefined;
}

export function classDefinition(target: TaskClass, options: TaskOptions, fieldName?: string): TaskDefinition {
  return {
    name: options.name ?? fieldName ?? target.name,
    source: target,
    explicitOptions: options,
    owner: target.name,
    create: () => new target(),
    body: target.prototype.run,
    skipsFirstParameter: false,
    prototypeForValidation: target.prototype,
  };
}
