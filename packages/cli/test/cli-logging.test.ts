import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { bin, fixture, run, type Finished } from './helpers';

/** `queue worker -l … --log-format …`: level names as Celery spells them, text or JSON lines. */
jest.setTimeout(30_000);

/** The line the worker logs at info when it starts consuming. */
const CONSUMING = /worker \S+ consuming celery/;

/** `queue worker` on the in-memory fixture until it is ready, then SIGTERM; everything it printed. */
function workerOutput(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  const started = Date.now();
  return new Promise((resolve) => {
    const { LOG_LEVEL: _level, QUEUE_LOG_FORMAT: _format, LOG_FORMAT: _old, ...base } = process.env;
    const child = spawn(process.execPath, [bin, 'worker', '--app', fixture('memory-app.js'), ...args], {
      env: { ...base, ...env },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/ready\.\n/.test(stdout)) child.kill('SIGTERM');
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const logLines = (output: string) => output.split('\n').filter((line) => CONSUMING.test(line));

test('not a terminal: JSON lines by default; text with --log-format or QUEUE_LOG_FORMAT', async () => {
  const [json, flag, env] = await Promise.all([
    workerOutput(['-l', 'INFO']),
    workerOutput(['-l', 'info', '--log-format', 'text'], { QUEUE_LOG_FORMAT: 'json' }),
    workerOutput([], { QUEUE_LOG_FORMAT: 'text' }),
  ]);
  for (const { code } of [json, flag, env]) expect(code).toBe(0);
  const [line] = logLines(json.stdout);
  expect(JSON.parse(line!)).toMatchObject({ level: 'info', logger: 'queue.worker' });
  for (const { stdout } of [flag, env]) {
    expect(logLines(stdout)).toHaveLength(1);
    expect(logLines(stdout)[0]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO {2}queue\.worker worker \S+ consuming celery/,
    );
    expect(stdout).not.toContain('\u001b['); // no colour into a pipe
  }
});

test('-l takes Celery’s names in any case: WARNING and critical leave the info line out', async () => {
  const results = await Promise.all([
    workerOutput(['-l', 'WARNING']),
    workerOutput(['--loglevel', 'critical']),
    workerOutput([], { LOG_LEVEL: 'Warn' }),
    workerOutput(['-l', 'DEBUG']),
  ]);
  for (const { code } of results) expect(code).toBe(0);
  expect(results.slice(0, 3).map(({ stdout }) => logLines(stdout))).toEqual([[], [], []]);
  expect(logLines(results[3]!.stdout)).toHaveLength(1);
});

test('an unknown level or format is a usage error, in one line', async () => {
  const [level, format] = await Promise.all([
    run(['worker', '--app', fixture('memory-app.js'), '-l', 'loud']),
    run(['worker', '--app', fixture('memory-app.js'), '--log-format', 'xml']),
  ]);
  expect(level.code).toBe(2);
  expect(level.stderr).toMatch(
    /^error: option '-l, --loglevel <level>' argument 'loud' is invalid\. unknown log level 'loud' \(choose: debug, info, warning, error, critical; any case\)\n$/,
  );
  expect(format.code).toBe(2);
  expect(format.stderr).toMatch(/unknown log format 'xml' \(choose: text, json\)\n$/);
});

test('a terminal gets coloured text lines', async () => {
  const script = `require('@queue/core').getTaskLogger('tty.check').info('hello')`;
  const result = await new Promise<string>((resolve) => {
    const {
      LOG_LEVEL: _level,
      QUEUE_LOG_FORMAT: _format,
      LOG_FORMAT: _old,
      NO_COLOR: _nc,
      ...env
    } = process.env;
    const child = spawn('script', ['-qec', `${process.execPath} -e "${script}"`, '/dev/null'], {
      cwd: join(__dirname, '..'),
      env,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('close', () => {
      clearTimeout(timer);
      resolve(output);
    });
  });
  // Escape codes spelled out: <ESC>[2m dims the time, [32m colours the level, [36m the logger.
  expect(result.replaceAll('\u001b', '<ESC>')).toMatch(
    /^<ESC>\[2m\d{4}-\d\d-\d\d [\d:.]+<ESC>\[0m <ESC>\[32mINFO <ESC>\[0m <ESC>\[36mtty\.check<ESC>\[0m hello\r?\n$/,
  );
});
