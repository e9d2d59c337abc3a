import { spawn } from 'node:child_process';
import { connect } from 'amqplib';
import { AMQP_URL, bin, deleteQueues, fixture, run, stopProcess, type Finished } from './helpers';

/** `queue call --wait` following states, and `queue purge`, against the real RabbitMQ. */
jest.setTimeout(30_000);

const queue = `test.cli.progress.${process.pid}.${Date.now()}`;
const purgeQueue = `${queue}.purge`;
let worker: import('node:child_process').ChildProcess | undefined;

/** `queue <args>` inside a pseudo-terminal (util-linux `script`); `input` is typed at the `[y/N]` prompt. */
function runInTerminal(args: string[], input = '', timeoutMs = 15_000): Promise<Finished> {
  const command = [process.execPath, bin, ...args]
    .map((word) => `'${word.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, AMQP_URL, LOG_LEVEL: 'error' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let typed = !input;
    const typeOnPrompt = () => {
      // Typed once the question is on the screen, as a person would.
      if (!typed && stdout.includes('[y/N]')) {
        typed = true;
        child.stdin.write(input);
      }
    };
    child.stdout.on('data', typeOnPrompt);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: '', ms: Date.now() - started });
    });
  });
}

beforeAll(async () => {
  const child = spawn(process.execPath, [bin, 'worker', '--app', fixture('progress-app.js'), '-c', '4'], {
    env: { ...process.env, AMQP_URL, QUEUE: queue, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker = child;
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 15_000;
  while (!/ready\./.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`worker not ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

afterAll(async () => {
  await stopProcess(worker);
  await deleteQueues(queue, purgeQueue);
});

describe('queue call --wait follows the task’s states', () => {
  test('not a terminal: one line per state on stderr, the result on stdout', async () => {
    const result = await run(['call', 'cli.progress', '--args', '[4, 60]', '-Q', queue, '--wait'], {
      AMQP_URL,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"steps":4}\n');
    expect(result.stderr.trim().split('\n').slice(1)).toEqual([
      'STARTED',
      'PROGRESS 25% (1/4)',
      'PROGRESS 50% (2/4)',
      'PROGRESS 75% (3/4)',
      'PROGRESS 100% (4/4)',
      'SUCCESS',
    ]);
  });

  test('FAILURE: the error’s type and message on one line, exit 1, nothing on stdout', async () => {
    const result = await run(['call', 'cli.jam', '-Q', queue, '--wait'], { AMQP_URL });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toContain('PROGRESS 40%');
    expect(lines[lines.length - 1]).toBe('FAILURE PaperJam: tray 2 is stuck');
  });

  test('a wait that times out says so and exits 1', async () => {
    const result = await run(
      ['call', 'cli.progress', '--args', '[2, 600]', '-Q', queue, '--wait', '--timeout', '0.3'],
      { AMQP_URL },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no result for task [0-9a-f-]{36} within 0\.3s\n$/);
  });

  test('on a terminal: a bar redrawn in place, then the result', async () => {
    const result = await runInTerminal(['call', 'cli.progress', '--args', '[3, 80]', '-Q', queue, '--wait']);
    expect(result.code).toBe(0);
    const screen = result.stdout;
    expect(screen).toContain(`\r\u001b[2KPROGRESS ${'█'.repeat(13)}${'░'.repeat(27)} 33% (1/3)`);
    expect(screen).toContain(`\r\u001b[2KPROGRESS ${'█'.repeat(40)} 100% (3/3)`);
    expect(screen).toMatch(/SUCCESS\r?\n\{"steps":3\}/);
    expect(screen).not.toContain('PROGRESS 33% (1/3)\r\n'); // not the line renderer
  });
});

describe('queue purge', () => {
  async function fill(count: number): Promise<void> {
    const model = await connect(AMQP_URL);
    const channel = await model.createConfirmChannel();
    await channel.assertQueue(purgeQueue, { durable: true });
    for (let i = 0; i < count; i++) channel.sendToQueue(purgeQueue, Buffer.from(`{"n":${i}}`));
    await channel.waitForConfirms();
    await model.close();
  }

  async function depth(): Promise<number> {
    const model = await connect(AMQP_URL);
    const channel = await model.createChannel();
    const { messageCount } = await channel.checkQueue(purgeQueue);
    await model.close();
    return messageCount;
  }

  test('without a terminal it needs -f; with -f it prints what each queue lost', async () => {
    await fill(3);
    const refused = await run(['purge', '-Q', purgeQueue, '--broker', AMQP_URL]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `error: queue purge: not asking without a terminal; add -f to delete every waiting message in ${purgeQueue}\n`,
    );
    expect(await depth()).toBe(3);

    const missing = `${purgeQueue}.missing`;
    const purged = await run(['purge', '-Q', `${purgeQueue},${missing}`, '-f', '--broker', AMQP_URL]);
    expect(purged.code).toBe(0);
    expect(purged.stdout).toBe(
      `purged 3 messages from ${purgeQueue}\nno queue named ${missing}: nothing purged\n`,
    );
    expect(await depth()).toBe(0);
  });

  test('on a terminal it asks first: "n" keeps the messages, "y" purges them', async () => {
    await fill(2);
    const kept = await runInTerminal(['purge', '-Q', purgeQueue], 'n\n');
    expect(kept.code).toBe(1);
    expect(kept.stdout).toContain(`Delete every waiting message in ${purgeQueue} on amqp://guest:****@`);
    expect(kept.stdout).toContain('nothing purged');
    expect(await depth()).toBe(2);
    const purged = await runInTerminal(['purge', '-Q', purgeQueue], 'y\n');
    expect(purged.code).toBe(0);
    expect(purged.stdout).toContain(`purged 2 messages from ${purgeQueue}`);
    expect(await depth()).toBe(0);
  });

  test('an in-process memory:// broker cannot be purged from here (exit 2)', async () => {
    const result = await run(['purge', '-f', '--broker', 'memory://']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: the broker memory:\/\/ cannot be purged from here .*\n$/);
  });
});
