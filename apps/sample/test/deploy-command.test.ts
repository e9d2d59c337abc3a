import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { App } from '@queue/core';
import '@queue/amqp';

/**
 * Docker cannot run here, so the worker image's exact CMD and HEALTHCHECK (read from docker/Dockerfile) are
 * run as plain processes against the local RabbitMQ: the start command the containers use is tested.
 */
const root = join(__dirname, '..', '..', '..');
const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
const HEARTBEAT = '/tmp/queue-worker.alive';

jest.setTimeout(60_000);

/** The exec-form JSON array of `instruction` in the `worker` stage. */
function workerStage(instruction: 'CMD' | 'HEALTHCHECK'): string[] {
  const dockerfile = readFileSync(join(root, 'docker', 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const stage = dockerfile.slice(dockerfile.indexOf('AS worker'));
  const line = stage.split('\n').find((l) => l.startsWith(`${instruction} `));
  if (!line) throw new Error(`no ${instruction} in the worker stage`);
  return JSON.parse(line.slice(line.indexOf('['))) as string[];
}

test('the worker image CMD serves tasks, its HEALTHCHECK passes, SIGTERM exits 0', async () => {
  const queue = `test.sample-deploy.${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'sample-deploy-'));
  const heartbeat = join(dir, 'alive');
  const [command, ...args] = workerStage('CMD').map((part) => part.replace(HEARTBEAT, heartbeat));
  expect(command).toBe('node');
  const worker = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, AMQP_URL, QUEUE: queue, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const caller = new App({
    name: 'deploy-caller',
    broker: AMQP_URL,
    defaultQueue: queue,
    setAsCurrent: false,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker not ready in 20 s:\n${output}`)), 20_000);
      const watch = (chunk: Buffer) => {
        output += chunk.toString();
        if (/ready\./.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      worker.stdout.on('data', watch);
      worker.stderr.on('data', watch);
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${output}`)));
    });
    expect(output).toMatch(/sample\.add/); // the banner lists the sample's tasks
    await expect((await caller.sendTask('sample.add', [2, 3])).get({ timeout: 15 })).resolves.toBe(5);

    const [, ...check] = workerStage('HEALTHCHECK').map((part) => part.replace(HEARTBEAT, heartbeat));
    expect(spawnSync(process.execPath, check).status).toBe(0);

    const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (worker.exitCode === null) worker.kill('SIGKILL');
    await caller.close();
    const model = await connect(AMQP_URL);
    const channel = await model.createChannel();
    await channel.deleteQueue(queue);
    await channel.deleteExchange(queue);
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
