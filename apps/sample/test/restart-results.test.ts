import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { Client } from 'pg';
import type { RecordView } from '../src/records';
import { waitFor } from './helpers';

/**
 * The sample deployed as documented (a web process and a separate `queue worker`, RabbitMQ, PostgreSQL):
 * task states live in PostgreSQL, so a restarted web process still shows every record's real state.
 * Everything runs as real processes on the built packages.
 */
const root = join(__dirname, '..', '..', '..');
const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

jest.setTimeout(120_000);

const suffix = randomUUID().slice(0, 8);
const env = {
  ...process.env,
  AMQP_URL,
  DATABASE_URL,
  QUEUE: `test.sample-restart.${suffix}`,
  RECORDS_TABLE: `records_restart_${suffix}`,
  // The result tables of this test only (the default would be DATABASE_URL itself, tables queue_*).
  RESULT_BACKEND: `${DATABASE_URL}?tablePrefix=restart_${suffix}_`,
  MANUAL_STEP_MS: '5',
  PORT: '0',
  LOG_LEVEL: 'warn',
};
const children: ChildProcess[] = [];

/** Starts `node <args>`; resolves with the process and a match of `ready` in its output. */
async function start(
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const match = await waitFor(
    `${args[0]} to be ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited:\n${output}`);
      return ready.exec(output) ?? undefined;
    },
    { timeoutMs: 60_000 },
  );
  return { child, match };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function startWeb(): Promise<{ child: ChildProcess; url: string }> {
  const { child, match } = await start(
    [join(root, 'apps/sample/dist/main.js')],
    /Sample app ready: (http:\/\/\S+)/,
  );
  return { child, url: match[1]! };
}

async function records(url: string): Promise<RecordView[]> {
  const response = await fetch(`${url}/api/records`, { signal: AbortSignal.timeout(5000) });
  return ((await response.json()) as { records: RecordView[] }).records;
}

afterAll(async () => {
  for (const child of children) await stop(child);
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  for (const table of [
    env.RECORDS_TABLE,
    `restart_${suffix}_task_results`,
    `restart_${suffix}_group_counters`,
  ]) {
    await db.query(`DROP TABLE IF EXISTS "${table}"`);
  }
  await db.end();
  const model = await connect(AMQP_URL);
  const channel = await model.createChannel();
  await channel.deleteQueue(env.QUEUE);
  await channel.deleteExchange(env.QUEUE);
  await model.close();
});

test('after a web restart every record still shows its task SUCCESS at 100 %', async () => {
  await start(
    [
      join(root, 'packages/cli/dist/bin.js'),
      'worker',
      '--app',
      join(root, 'apps/sample/dist/worker.js'),
      '-c',
      '4',
    ],
    /ready\./,
  );
  const first = await startWeb();
  for (const title of ['one', 'two', 'three']) {
    const response = await fetch(`${first.url}/api/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title }),
      signal: AbortSignal.timeout(5000),
    });
    expect(response.status).toBe(201);
  }
  await waitFor('three records at SUCCESS', async () => {
    const list = await records(first.url);
    return list.length === 3 && list.every((r) => r.task.state === 'SUCCESS') ? list : undefined;
  });
  await stop(first.child);

  const second = await startWeb(); // a new process: it sent none of these tasks
  const list = await records(second.url);
  expect(list).toHaveLength(3);
  for (const record of list) expect(record.task).toMatchObject({ state: 'SUCCESS', percent: 100 });
});
