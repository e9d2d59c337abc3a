import { NotRegistered } from '../errors';
import { parameterNames } from './arguments';
import type { BaseTask, TaskClass } from './base-task';
import { bindTask } from './binding';
import { duplicate, sharedTasks, TaskRegistry, type TaskDefinition } from './definition';
import { compileTaskOptions, optionFieldsOf, TASK_OPTION_KEYS, type TaskDefaults } from './options';
import { payloadSchemas } from './payload-schema';
import { validatedParameterTypes } from './payload-validation';
import type { TaskHost } from './task-host';
import { misspeltOptionFields } from './option-typos';
import { getTaskLogger } from '../logging/logger';

const logger = getTaskLogger('queue.app');

/**
 * The tasks one App can run: its own and the shared ones (`@Task` classes, `sharedTask`), each with one
 * instance per App whose options are compiled against the App's task defaults.
 */
export class TaskCatalog {
  private readonly own = new TaskRegistry();
  private readonly instances = new Map<TaskDefinition, BaseTask>();

  constructor(
    private readonly host: TaskHost,
    private readonly defaults: TaskDefaults,
  ) {}

  /** Adds a task of this App. @throws DuplicateTaskError when a different task has that name. */
  define(definition: TaskDefinition): void {
    const shared = sharedTasks.get(definition.name);
    if (shared && shared.source !== definition.source) throw duplicate(shared, definition);
    this.own.add(definition);
    this.instanceOf(definition); // options checked against this App's defaults now, not at first use
  }

  /** Names of every task this App can run. */
  names(): string[] {
    return [...new Set([...this.own.names(), ...sharedTasks.names()])].sort();
  }

  /** The instance of a registered task, or undefined. */
  find(name: string): BaseTask | undefined {
    const definition = this.own.get(name) ?? sharedTasks.get(name);
    return definition && this.instanceOf(definition);
  }

  /** The instance of a registered task (by name, or by its `@Task` class). @throws NotRegistered */
  get<T extends BaseTask>(ref: string | TaskClass<T>): T {
    const definition =
      typeof ref === 'string'
        ? (this.own.get(ref) ?? sharedTasks.get(ref))
        : (sharedTasks.findBySource(ref) ?? this.own.findBySource(ref));
    if (!definition)
      throw new NotRegistered(typeof ref === 'string' ? ref : `${ref.name} (decorate the class with @Task)`);
    return this.instanceOf(definition) as T;
  }

  private instanceOf(definition: TaskDefinition): BaseTask {
    const existing = this.instances.get(definition);
    if (existing) return existing;
    const instance = definition.create();
    for (const { field, option } of misspeltOptionFields(instance)) {
      logger.warn(
        `${definition.owner}: the field '${field}' is not a task option (did you mean '${option}'?); it is ignored`,
      );
    }
    const options = compileTaskOptions(
      definition.owner,
      definition.explicitOptions,
      optionFieldsOf(instance),
      this.defaults,
      definition.name,
    );
    for (const key of TASK_OPTION_KEYS) (instance as unknown as Record<string, unknown>)[key] = options[key];
    const names = parameterNames(definition.body);
    bindTask(instance, {
      host: this.host,
      options,
      parameterNames: definition.skipsFirstParameter ? names.slice(1) : names,
      // An explicit `payload` wins over `@ValidateArgs()` metadata (which standard decorators never emit).
      parameterTypes: options.payload
        ? payloadSchemas(options.payload)
        : definition.prototypeForValidation
          ? validatedParameterTypes(definition.prototypeForValidation)
          : [],
      seesRun: definition.prototypeForValidation !== undefined || definition.skipsFirstParameter,
    });
    this.instances.set(definition, instance);
    return instance;
  }
}
