import {
  App,
  BaseTask,
  DuplicateTaskError,
  InvalidTaskOptionsError,
  Task,
  sharedTask,
  type TaskOptions,
} from '@queue/core';
import { testApp } from './helpers';

function defineWith(options: TaskOptions | Record<string, unknown>): void {
  @Task(options as TaskOptions)
  class BadOptions extends BaseTask<[], void> {
    run() {}
  }
  void BadOptions;
}

describe('@Task option validation at definition time', () => {
  it.each([
    ['an unknown key', { name: 'bad.unknown', maxRetriez: 3 }, 'maxRetriez'],
    ['a negative maxRetries', { name: 'bad.negative', maxRetries: -1 }, 'maxRetries'],
    ['a negative defaultRetryDelay', { name: 'bad.delay', defaultRetryDelay: -5 }, 'defaultRetryDelay'],
    ['softTimeLimit ≥ timeLimit', { name: 'bad.limits', timeLimit: 5, softTimeLimit: 5 }, 'softTimeLimit'],
    ['a priority above 255', { name: 'bad.priority', priority: 300 }, 'priority'],
  ])('refuses %s, naming the class and the option', (_what, options, option) => {
    let error: unknown;
    try {
      defineWith(options);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidTaskOptionsError);
    expect((error as Error).message).toContain('BadOptions');
    expect((error as InvalidTaskOptionsError).issues.map((i) => i.property)).toContain(option);
  });

  it('refuses a class in autoretryFor that is not an Error', () => {
    class NotAnError {}
    expect(() => defineWith({ name: 'bad.autoretry', autoretryFor: [NotAnError] })).toThrow(
      /BadOptions.*autoretryFor.*NotAnError/,
    );
  });

  it('checks class fields together with decorator options', () => {
    expect(() => {
      @Task({ name: 'bad.fields', timeLimit: 5 })
      class FieldTooLong extends BaseTask<[], void> {
        override softTimeLimit = 8;
        run() {}
      }
      void FieldTooLong;
    }).toThrow(/FieldTooLong.*softTimeLimit \(8\) must be less than timeLimit \(5\)/);
  });

  it('refuses a second, different task under an existing name', () => {
    @Task({ name: 'dup.name' })
    class First extends BaseTask<[], number> {
      run() {
        return 1;
      }
    }
    void First;
    expect(() => {
      @Task({ name: 'dup.name' })
      class Second extends BaseTask<[], number> {
        run() {
          return 2;
        }
      }
      void Second;
    }).toThrow(DuplicateTaskError);
    expect(() => sharedTask({ name: 'dup.name' }, () => 3)).toThrow(DuplicateTaskError);
  });
});

describe('function task definitions', () => {
  let app: App;
  beforeEach(() => {
    app = testApp();
  });
  afterEach(() => app.close());

  it('validates app.task options and refuses duplicates within the App', () => {
    expect(() => app.task({ name: 'f.bad', maxRetries: -2 }, () => 1)).toThrow(InvalidTaskOptionsError);
    app.task({ name: 'f.once' }, () => 1);
    expect(() => app.task({ name: 'f.once' }, () => 2)).toThrow(DuplicateTaskError);
  });

  it('names a task after its function and refuses an anonymous one without a name', () => {
    function namedAfterMe() {
      return 1;
    }
    expect(app.task(namedAfterMe).taskName).toBe('namedAfterMe');
    expect(() =>
      app.task(
        {},
        (
          () => () =>
            1
        )(),
      ),
    ).toThrow(/anonymous function needs an explicit name/);
  });

  it('registers shared tasks in every App', async () => {
    const shared = sharedTask({ name: 'shared.double' }, (x: number) => x * 2);
    const other = testApp();
    try {
      expect(app.taskNames).toContain('shared.double');
      expect(other.taskNames).toContain('shared.double');
      expect(await shared(21)).toBe(42);
    } finally {
      await other.close();
    }
  });
});

describe('option precedence: decorator > class field > App default', () => {
  abstract class AppBase extends BaseTask<[], void> {
    override maxRetries = 7;
    override defaultRetryDelay = 5;
    override trackStarted = true;
  }

  @Task({ name: 'prec.task', maxRetries: 1 })
  class Precedence extends AppBase {
    run() {}
  }

  it('merges the three layers and writes effective values back onto the instance', async () => {
    const app = testApp({
      taskDefaults: { maxRetries: 9, defaultRetryDelay: 9, retryBackoffMax: 42, queue: 'dq' },
    });
    try {
      const task = app.getTask(Precedence);
      expect(task.options.maxRetries).toBe(1); // decorator
      expect(task.options.defaultRetryDelay).toBe(5); // class field
      expect(task.options.trackStarted).toBe(true); // class field
      expect(task.options.retryBackoffMax).toBe(42); // App default
      expect(task.options.queue).toBe('dq'); // App default
      expect(task.options.acksLate).toBe(true); // built-in default
      expect(task.maxRetries).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('validates the merged options when an App registers the task', () => {
    expect(() => testApp({ taskDefaults: { timeLimit: 1, softTimeLimit: 3 } })).toThrow(
      InvalidTaskOptionsError,
    );
    const app = testApp({ taskDefaults: { softTimeLimit: 30 } });
    @Task({ name: 'prec.short', timeLimit: 10 })
    class ShortLimit extends BaseTask<[], void> {
      run() {}
    }
    try {
      expect(() => app.getTask(ShortLimit)).toThrow(/ShortLimit.*softTimeLimit/);
    } finally {
      void app.close();
    }
  });
});

describe('App options', () => {
  it('refuses unknown keys and bad values with a clear error', () => {
    expect(() => new App({ name: 'x', brokr: 'memory://' } as never)).toThrow(/Invalid App options: brokr/);
    expect(() => new App({ name: '' })).toThrow(/name/);
    expect(() => new App({ name: 'x', broker: 'nonsense' })).toThrow(/scheme:\/\//);
    expect(() => new App({ name: 'x', broker: 'kafka://localhost' })).toThrow(/Unknown broker scheme kafka/);
  });
});
