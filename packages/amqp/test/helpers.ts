import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { App, type AppOptions, type AsyncResult, type StateChange } from '@queue/core';
import '../src';

/** The local broker (tests send traffic only to 127.0.0.1). */
export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';

/** A queue name no other test (or earlier run) uses. */
export function uniqueQueue(label: string): string {
  return `test.${label}.${randomUUID().slice(0, 8)}`;
}

/** An App on the real RabbitMQ with the rpc backend; not the current App, so tests stay independent. */
export function amqpApp(queue: string, options: Partial<AppOptions> = {}): App {
  return new App({
    name: `it-${queue}`,
    broker: AMQP_URL,
    resultBackend: 'rpc://',
    defaultQueue: queue,
    setAsCurrent: false,
    ...options,
    transportOptions: { reconnectMaxDelayMs: 1000, ...(options.transportOptions ?? {}) },
  });
}

/** A raw amqplib connection for inspecting and cleaning up (not the code under test). */
export class BrokerAdmin {
  private constructor(
    private readonly model: ChannelModel,
    private channel: Channel,
  ) {}

  static async open(): Promise<BrokerAdmin> {
    const model = await connect(AMQP_URL);
    model.on('error', () => undefined);
    return new BrokerAdmin(model, await model.createChannel());
  }

  /** A fresh channel after a failed operation closed the previous one. */
  private async usable(): Promise<Channel> {
    try {
      await this.channel.checkExchange('amq.direct');
    } catch {
      this.channel = await this.model.createChannel();
    }
    return this.channel;
  }

  async depth(queue: string): Promise<number> {
    return (await (await this.usable()).checkQueue(queue)).messageCount;
  }

  async get(queue: string) {
    return (await this.usable()).get(queue, { noAck: true });
  }

  async publishRaw(
    queue: string,
    body: Buffer | string,
    options: Record<string, unknown> = {},
  ): Promise<void> {
    (await this.usable()).sendToQueue(queue, Buffer.from(body), options);
  }

  async declare(queue: string, args: Record<string, unknown>): Promise<void> {
    await (await this.usable()).assertQueue(queue, { durable: true, arguments: args });
  }

  /** Deletes the queues, their dead-letter queues and same-named exchanges; missing ones are fine. */
  async cleanup(...queues: string[]): Promise<void> {
    for (const queue of queues) {
      for (const name of [queue, `${queue}.dlq`]) {
        const channel = await this.usable();
        await channel.deleteQueue(name).catch(() => undefined);
      }
      const channel = await this.usable();
      await channel.deleteExchange(queue).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => undefined);
  }
}

/** Polls until `predicate` holds; fails after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every state change of `result` until it is ready. */
export async function collectStates(result: AsyncResult): Promise<StateChange[]> {
  const seen: StateChange[] = [];
  for await (const change of result) seen.push(change);
  return seen;
}

/** A fixture process (`fixtures/<name>.js`, on the built packages) and everything it printed. */
export interface FixtureProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name) once it ends. */
  exited: Promise<number | string | null>;
}

/** Starts `fixtures/<name>.js` with `env` (AMQP_URL included); stdout and stderr are collected. */
export function spawnFixture(name: string, env: Record<string, string>): FixtureProcess {
  return spawnNode([join(__dirname, 'fixtures', `${name}.js`)], env);
}

/** Starts `node <args>` with `env` (AMQP_URL included); stdout and stderr are collected. */
export function spawnNode(args: string[], env: Record<string, string>): FixtureProcess {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, AMQP_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { child, output: () => output, exited };
}

/** Starts the worker fixture in a child process; resolves once it consumes. */
export async function startWorkerProcess(
  queue: string,
  concurrency: number,
  env: Record<string, string> = {},
): Promise<FixtureProcess> {
  const worker = spawnFixture('worker-process', { QUEUE: queue, CONCURRENCY: String(concurrency), ...env });
  await waitFor(() => {
    if (worker.child.exitCode !== null) throw new Error(`worker process exited:\n${worker.output()}`);
    return worker.output().includes('ready');
  }, 15_000);
  return worker;
}

/** Kills a fixture process (if it still runs) and waits for it to end. */
export async function killProcess(fixture: FixtureProcess | undefined): Promise<void> {
  if (!fixture) return;
  if (fixture.child.exitCode === null && fixture.child.signalCode === null) fixture.child.kill('SIGKILL');
  await fixture.exited;
}

/** Closes, from the broker side, the connections whose client-provided name is `name`. */
export function closeConnectionsNamed(name: string): void {
  const listing = execFileSync(
    'rabbitmqctl',
    ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'],
    { encoding: 'utf8' },
  );
  // One line per connection: "<erlang pid>\t[{"connection_name",longstr,"…"},…]".
  const pids = listing
    .split('\n')
    .filter((line) => line.includes(`"${name}"`))
    .map((line) => line.split('\t')[0]!.trim());
  expect(pids.length).toBeGreaterThan(0);
  for (const pid of pids) {
    execFileSync('rabbitmqctl', ['close_connection', pid, 'test: closed by the broker'], { stdio: 'ignore' });
  }
}
