import { BaseTask, configureLogging, Task } from '@queue/core';
import { captureLogs, testApp } from './helpers';

/** A misspelt option written as a class field would be ignored silently: the App says so when it registers the task. */
test('fields that look like options (typos, Celery spellings) are named in a warning; real options are not', async () => {
  const lines = captureLogs('warn');
  const warnings = () => lines.map((line) => line.message);

  @Task({ name: 'typos.misspelt' })
  class Misspelt extends BaseTask<[], null> {
    maxRetry = 3;
    time_limit = 5;
    ackLate = true;
    unrelatedState = 'kept';
    run() {
      return null;
    }
  }

  @Task({ name: 'typos.fine' })
  class Fine extends BaseTask<[], null> {
    override maxRetries = 3;
    override acksLate = true;
    cache = new Map<string, string>();
    run() {
      return null;
    }
  }

  const app = testApp();
  try {
    app.getTask(Misspelt);
    app.getTask(Fine);
    expect(warnings().sort()).toEqual([
      "Misspelt: the field 'ackLate' is not a task option (did you mean 'acksLate'?); it is ignored",
      "Misspelt: the field 'maxRetry' is not a task option (did you mean 'maxRetries'?); it is ignored",
      "Misspelt: the field 'time_limit' is not a task option (did you mean 'timeLimit'?); it is ignored",
    ]);
  } finally {
    await app.close();
    configureLogging({ level: 'silent' });
  }
});
