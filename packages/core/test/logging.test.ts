import { Writable } from 'node:stream';
import winston from 'winston';
import { BaseTask, configureLogging, getTaskLogger, Task, type App } from '@queue/core';
import { testApp } from './helpers';

const pingLogger = getTaskLogger('ping.logger');

@Task({ name: 'logging.ping' })
class Ping extends BaseTask<[], string> {
  run() {
    pingLogger.info('pong');
    this.logger.warn('from the class logger');
    return 'pong';
  }
}

let lines: Array<Record<string, unknown>>;
let app: App;

beforeEach(async () => {
  lines = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  configureLogging({
    level: 'info',
    format: 'json',
    transports: [new winston.transports.Stream({ stream: sink })],
  });
  app = testApp();
  await app.worker().start();
});

afterEach(async () => {
  await app.close();
  configureLogging({ level: 'silent' });
});

describe('task loggers', () => {
  it('lines logged inside a run carry the task name and id, and the logger name', async () => {
    const result = await Ping.delay();
    await result.get({ timeout: 3 });
    const pong = lines.find((line) => line.message === 'pong');
    expect(pong).toMatchObject({
      level: 'info',
      logger: 'ping.logger',
      taskName: 'logging.ping',
      taskId: result.id,
    });
    expect(lines.find((line) => line.message === 'from the class logger')).toMatchObject({
      logger: 'Ping',
      taskId: result.id,
    });
  });

  it('lines logged outside a run carry no task id', () => {
    pingLogger.info('idle');
    const idle = lines.find((line) => line.message === 'idle');
    expect(idle).toBeDefined();
    expect(idle!.taskId).toBeUndefined();
  });
});
