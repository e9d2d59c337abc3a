import { DuplicateTaskError } from '../errors';
import type { BaseTask } from './base-task';
import type { TaskOptions } from './options';

/** How to make a task: a decorated class or a function, with the options it was declared with. */
export interface TaskDefinition {
  readonly name: string;
  /** The class or function declared (two definitions with the same source are the same task). */
  readonly source: object;
  readonly explicitOptions: TaskOptions;
  /** Names the task in errors (class name or function name). */
  readonly owner: string;
  /** What was declared, for errors: `class SendEmail`, `function sendEmail`. */
  readonly label: string;
  /** Where it was declared (`src/tasks.ts:12`), when the stack said so. */
  readonly definedAt?: string;
  create(): BaseTask;
  /** The function whose parameters are the task's arguments (the class's `run`, or the task function). */
  readonly body: (...args: never[]) => unknown;
  /** For bound function tasks the first parameter is the task itself, not an argument. */
  readonly skipsFirstParameter: boolean;
  /** The object whose `run` carries `design:paramtypes` (class tasks), for payload validation. */
  readonly prototypeForValidation?: object;
}

/** `class SendEmail (src/mail.ts:12)`: a definition as errors name it. */
export function describeDefinition(definition: TaskDefinition): string {
  return definition.definedAt ? `${definition.label} (${definition.definedAt})` : definition.label;
}

/** The error for `refused`, which wants the name `registered` has. */
export function duplicate(registered: TaskDefinition, refused: TaskDefinition): DuplicateTaskError {
  return new DuplicateTaskError(refused.name, describeDefinition(registered), describeDefinition(refused));
}

/** Task definitions by name. */
export class TaskRegistry {
  private readonly byName = new Map<string, TaskDefinition>();

  /** @throws DuplicateTaskError when a different task already has that name. */
  add(definition: TaskDefinition): void {
    const existing = this.byName.get(definition.name);
    if (existing && existing.source !== definition.source) throw duplicate(existing, definition);
    this.byName.set(definition.name, definition);
  }

  get(name: string): TaskDefinition | undefined {
    return this.byName.get(name);
  }

  findBySource(source: object): TaskDefinition | undefined {
    for (const definition of this.byName.values()) if (definition.source === source) return definition;
    return undefined;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

/** Tasks registered in every App: `@Task` classes and `sharedTask` functions. */
export const sharedTasks = new TaskRegistry();
