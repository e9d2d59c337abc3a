import { Writable } from 'node:stream';
import winston from 'winston';
import {
  ConfigurationError,
  configureLogging,
  getTaskLogger,
  parseLogFormat,
  parseLogLevel,
  type App,
} from '@queue/core';
import { resolveLogging, type LoggingEnvironment } from '../src/logging/logger';
import { testApp } from './helpers';

/** A terminal on stdout only, and an environment without logging variables unless given. */
function environment(
  env: NodeJS.ProcessEnv = {},
  tty: Array<'stdout' | 'stderr'> = ['stdout'],
): LoggingEnvironment {
  return { env, isTTY: (stream) => tty.includes(stream) };
}

describe('which format the console gets', () => {
  it('a terminal gets coloured text, anything else JSON', () => {
    expect(resolveLogging({}, environment())).toMatchObject({ format: 'text', colour: true });
    expect(resolveLogging({}, environment({}, []))).toMatchObject({ format: 'json', colour: false });
  });

  it('looks at the stream it writes to: stderr for one-shot commands', () => {
    expect(resolveLogging({ stream: 'stderr' }, environment({}, ['stdout'])).format).toBe('json');
    expect(resolveLogging({ stream: 'stderr' }, environment({}, ['stderr'])).format).toBe('text');
  });

  it('the flag wins over the environment, which wins over the terminal test', () => {
    const env = { QUEUE_LOG_FORMAT: 'json' };
    expect(resolveLogging({}, environment(env)).format).toBe('json');
    expect(resolveLogging({ format: 'text' }, environment(env, []))).toMatchObject({
      format: 'text',
      colour: false, // asked for text on a pipe: no escape codes in the file
    });
    expect(resolveLogging({}, environment({ LOG_FORMAT: 'TEXT' }, [])).format).toBe('text');
    expect(resolveLogging({ format: 'pretty' }, environment({}, [])).format).toBe('text');
  });

  it('NO_COLOR and custom transports turn colour off; custom transports default to JSON', () => {
    expect(resolveLogging({}, environment({ NO_COLOR: '1' }))).toMatchObject({
      format: 'text',
      colour: false,
    });
    const transports = [new winston.transports.Console()];
    expect(resolveLogging({ transports }, environment())).toMatchObject({ format: 'json', colour: false });
  });

  it('an unreadable environment value is ignored; an unknown option is an error', () => {
    expect(resolveLogging({}, environment({ QUEUE_LOG_FORMAT: 'xml', LOG_LEVEL: 'loud' }, []))).toEqual({
      format: 'json',
      colour: false,
      level: 'info',
    });
    expect(() => resolveLogging({ format: 'xml' as 'json' }, environment())).toThrow(ConfigurationError);
    expect(() => resolveLogging({ level: 'loud' }, environment())).toThrow(/unknown log level 'loud'/);
  });
});

describe('level names, as Celery spells them', () => {
  it.each([
    ['DEBUG', 'debug'],
    ['info', 'info'],
    ['WARNING', 'warn'],
    ['warn', 'warn'],
    ['Warning', 'warn'],
    ['ERROR', 'error'],
    ['CRITICAL', 'error'],
    ['fatal', 'error'],
    ['silent', 'silent'],
  ])('%s → %s', (name, level) => {
    expect(parseLogLevel(name)).toBe(level);
  });

  it('refuses anything else, naming the choices', () => {
    expect(() => parseLogLevel('loud')).toThrow(
      /unknown log level 'loud' \(choose: debug, info, warning, error, critical/,
    );
    expect(() => parseLogFormat('xml')).toThrow(/unknown log format 'xml' \(choose: text, json\)/);
  });
});

describe('the text format', () => {
  let lines: string[];
  let app: App | undefined;

  function capture(colour: boolean, level = 'info'): void {
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    configureLogging({
      level,
      format: 'text',
      colour,
      transports: [new winston.transports.Stream({ stream: sink })],
    });
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
    configureLogging({ level: 'silent' });
  });

  it('one line per event: time, level, logger, message, then other meta', () => {
    capture(false);
    getTaskLogger('text.test').warn('disk\nfull', { attempt: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} WARN {2}text\.test disk\\nfull attempt=2\n?$/,
    );
  });

  it('lines logged in a run end with the task name and id', async () => {
    capture(false);
    app = testApp();
    const logger = getTaskLogger('text.task');
    const task = app.task({ name: 'text.logs' }, () => logger.info('inside'));
    await app.worker().start();
    const result = await task.delay();
    await result.get({ timeout: 3 });
    const inside = lines.find((line) => line.includes(' inside'));
    expect(inside).toMatch(new RegExp(`INFO  text\\.task inside text\\.logs\\[${result.id}\\]\\n?$`));
  });

  it('coloured: the level in its colour, the time dimmed; the level filter applies', () => {
    capture(true, 'WARNING');
    const logger = getTaskLogger('text.colour');
    logger.info('not shown');
    logger.error('shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.replaceAll('\u001b', '<ESC>')).toMatch(
      /^<ESC>\[2m\d{4}-.*<ESC>\[0m <ESC>\[1;31mERROR<ESC>\[0m <ESC>\[36mtext\.colour<ESC>\[0m shown/,
    );
  });
});
