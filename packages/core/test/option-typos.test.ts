import { Writable } from 'node:stream';
import winston from 'winston';
import { BaseTask, configureLogging, Task } from '@queue/core';
import { testApp } from './helpers';

/** A misspelt option written as a class field would be ignored silently: the App says so when it registers the task. */
test('fields that look like options (typos, Celery spellings) are named in a warning; real options are not', async () => {
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings.push((JSON.parse(chunk.toString()) as { message: string }).message);
      done();
    },
  });
  configureLogging({
    level: 'warn',
    format: 'json',
    transports: [new winston.transports.Stream({ stream: sink })],
  });

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
    expect(warnings.sort()).toEqual([
      "Misspelt: the field 'ackLate' is not a task option (did you mean 'acksLate'?); it is ignored",
      "Misspelt: the field 'maxRetry' is not a task option (did you mean 'maxRetries'?); it is ignored",
      "Misspelt: the field 'time_limit' is not a task option (did you mean 'timeLimit'?); it is ignored",
    ]);
  } finally {
    await app.close();
    configureLogging({ level: 'silent' });
  }
});
