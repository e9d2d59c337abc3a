import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Db, uniqueTables, type TestTables } from './helpers';

/**
 * Runs the built package (`pnpm -r build` comes first in scripts/test.sh) in a child process: nothing of the
 * backend may keep a script alive once it is done, whether it closes its App or forgets to.
 */
jest.setTimeout(30_000);

function run(env: Record<string, string>): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(__dirname, 'fixtures/script.js')], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output, ms: Date.now() - started });
    }),
  );
}

describe('a script using the backend ends by itself', () => {
  let db: Db;
  let tables: TestTables;
  beforeAll(async () => (db = await Db.open()));
  afterAll(async () => db.close());
  beforeEach(() => (tables = uniqueTables()));
  afterEach(async () => db.drop(tables));

  test.each(['close', 'forget-close'])('MODE=%s', async (mode) => {
    const { code, output, ms } = await run({ BACKEND_URL: tables.url(), MODE: mode });
    expect(output).toContain('result 5');
    expect(output).toContain('done');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  });
});
