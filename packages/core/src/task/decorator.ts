import { ConfigurationError, PayloadTypesUnknownError } from '../errors';
import type { BaseTask, TaskClass } from './base-task';
import { definitionSite } from './defined-at';
import { describeDefinition, sharedTasks, type TaskDefinition } from './definition';
import { compileTaskOptions, optionFieldsOf, validateTaskOptions, type TaskOptions } from './options';
import { emittedParameterTypes, validatedParameterTypes } from './payload-validation';

/**
 * What `@Task(...)` returns: a class decorator for both decorator modes, legacy (`experimentalDecorators`,
 * called with the class) and standard (TC39, called with the class and its context).
 */
export type TaskClassDecorator = <C extends new () => BaseTask>(
  target: C,
  context?: ClassDecoratorContext<C>,
) => void;

/**
 * What `@ValidateArgs()` returns: a method decorator for both decorator modes. Only legacy decorators with
 * `emitDecoratorMetadata` give it parameter types; otherwise `@Task` refuses the class (use `payload:`).
 */
export interface ValidateArgsDecorator {
  /** Legacy (`experimentalDecorators`): the prototype, the method name and its descriptor. */
  (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): void;
  /** Standard (TC39) decorators: the method and its context. */
  (method: (...args: never[]) => unknown, context: ClassMethodDecoratorContext): void;
}

/**
 * Registers a `BaseTask` subclass as a task in every App, with options that take precedence over its fields.
 * Options are validated here, when the class is defined: an error names the class and the bad option.
 * Works as a legacy (`experimentalDecorators`) and as a standard decorator.
 */
export function Task(options: TaskOptions = {}): TaskClassDecorator {
  return (target, context) => {
    // Standard decorators run before the class's static fields are set: register once the class is complete.
    if (context) context.addInitializer(() => defineClassTask(target, options));
    else defineClassTask(target, options);
  };
}

function defineClassTask(target: new () => BaseTask, options: TaskOptions): void {
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
  const definition = classDefinition(target as unknown as TaskClass, options, fields.name);
  if ((options.payload ?? fields.payload) === undefined) checkValidateArgs(definition, target.prototype);
  sharedTasks.add(definition);
}

/** How `run` was marked by `@ValidateArgs()`: by which decorator mode. */
const validateArgsMarks = new WeakMap<object, 'legacy' | 'standard'>();

/**
 * Marks `run` so that TypeScript records its parameter types (legacy decorators with `emitDecoratorMetadata`):
 * arguments whose class carries class-validator rules are then turned into that class and validated before
 * every run (and before sending). When no such type is known, `@Task` throws `PayloadTypesUnknownError`
 * rather than let payloads through unchecked; `payload:` needs no metadata.
 */
export function ValidateArgs(): ValidateArgsDecorator {
  return ((target: unknown, key: unknown, descriptor?: PropertyDescriptor): void => {
    const standard = typeof key === 'object' && key !== null;
    const name = standard ? (key as ClassMethodDecoratorContext).name : (key as string | symbol);
    if (name !== 'run') {
      throw new ConfigurationError(
        `@ValidateArgs() applies to a task's run method, not to ${String(name)}: only run's arguments are validated`,
      );
    }
    const method = standard ? target : descriptor?.value;
    if (typeof method === 'function') validateArgsMarks.set(method, standard ? 'standard' : 'legacy');
  }) as ValidateArgsDecorator;
}

/** @throws PayloadTypesUnknownError when `run` asks for validation but no parameter type says what to check. */
function checkValidateArgs(definition: TaskDefinition, prototype: object): void {
  const mark = validateArgsMarks.get(definition.body);
  if (!mark) return;
  const task = `${describeDefinition(definition)}, task '${definition.name}'`;
  if (mark === 'standard') {
    throw new PayloadTypesUnknownError(
      task,
      'standard-decorators',
      'standard (TC39) decorators emit no parameter types',
    );
  }
  const emitted = emittedParameterTypes(prototype);
  if (!emitted) {
    throw new PayloadTypesUnknownError(
      task,
      'no-metadata',
      'TypeScript emitted no parameter types for run (design:paramtypes is missing)',
    );
  }
  if (!validatedParameterTypes(prototype).some(Boolean)) {
    const names = emitted.map((type) => (typeof type === 'function' ? type.name : String(type)));
    throw new PayloadTypesUnknownError(
      task,
      'no-validated-type',
      `run's parameter types are [${names.join(', ')}] and none is a class with class-validator rules ` +
        '(a type-only import, an interface or a type alias is emitted as Object or Function)',
    );
  }
}

export function classDefinition(target: TaskClass, options: TaskOptions, fieldName?: string): TaskDefinition {
  return {
    name: options.name ?? fieldName ?? target.name,
    source: target,
    explicitOptions: options,
    owner: target.name,
    label: `class ${target.name || '(anonymous)'}`,
    definedAt: definitionSite(),
    create: () => new target(),
    body: target.prototype.run,
    skipsFirstParameter: false,
    prototypeForValidation: target.prototype,
  };
}
