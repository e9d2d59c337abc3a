/**
 * A worker or a client of one Node system, started by the harness (compare/main.js) in a process of its own:
 *
 *   node bench/dist/compare/roles/main.js <raw|ours-async|ours-threads|bullmq> <role> '<RoleParams JSON>'
 *
 * It speaks protocol.ts: events on stdout, commands on stdin; the end of stdin stops it.
 */
import { createInterface } from 'node:readline';
import { configureLogging } from '@queue/core';
import {
  EVENT_PREFIX,
  NODE_SYSTEMS,
  ROLES,
  isChildCommand,
  type ChildCommand,
  type ChildEvent,
  type ClientResult,
  type NodeSystemId,
  type Role,
  type RoleParams,
} from '../protocol';
import type { SystemAdapter } from './adapter';
import { RunCounter, latencies, roundTrips, sendAll } from './drivers';
import { loadAdapter } from './registry';

/** A role process still alive this long after its deadline ends itself (the harness kills it before). */
const OVERTIME_MS = 30_000;

function emit(event: ChildEvent): void {
  process.stdout.write(`${EVENT_PREFIX}${JSON.stringify(event)}\n`);
}

function die(message: string): never {
  emit({ event: 'error', message });
  process.exit(1);
}

/** Commands from stdin, in order; the end of stdin reads as `stop`. */
class Inbox {
  private readonly queued: ChildCommand[] = [];
  private waiter: ((command: ChildCommand) => void) | undefined;

  constructor() {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return;
      }
      if (isChildCommand(value)) this.push(value);
    });
    lines.on('close', () => this.push({ cmd: 'stop' }));
  }

  private push(command: ChildCommand): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(command);
    else this.queued.push(command);
  }

  next(): Promise<ChildCommand> {
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

async function runClient(
  adapter: SystemAdapter,
  role: Exclude<Role, 'worker'>,
  params: RoleParams,
  inbox: Inbox,
) {
  const client = adapter.client(params, { roundTrips: role !== 'enqueue' });
  await client.connect();
  emit({ event: 'ready' });
  const command = await inbox.next();
  if (command.cmd === 'go') {
    let result: ClientResult;
    const { n, inFlight, offset, deadline } = params;
    if (role === 'enqueue') {
      const sent = await sendAll(client, n, inFlight, offset, deadline);
      result = { kind: 'sent', n, ...sent, replyQueues: client.replyQueues() };
    } else if (role === 'roundtrip') {
      const timed = await roundTrips(client, n, inFlight, offset, deadline);
      result = { kind: 'roundtrips', n, ...timed, replyQueues: client.replyQueues() };
    } else {
      result = {
        kind: 'latency',
        samplesMs: await latencies(client, n, deadline),
        replyQueues: client.replyQueues(),
      };
    }
    emit({ event: 'result', result });
    // Stays connected (an application's client would) until the harness has what it measures.
    while ((await inbox.next()).cmd !== 'stop');
  }
  await client.close();
}

async function runWorker(adapter: SystemAdapter, params: RoleParams, inbox: Inbox): Promise<void> {
  const counter = new RunCounter((window) => emit({ event: 'window', window }));
  if (params.n > 0) counter.expect(params.n);
  const worker = adapter.worker(params);
  let stopping = false;
  await worker.start({
    started: () => counter.started(),
    finished: () => counter.finished(),
    failed: (message) => {
      if (!stopping) die(message);
    },
  });
  emit({ event: 'ready' });
  for (;;) {
    const command = await inbox.next();
    if (command.cmd === 'expect') {
      counter.expect(command.n);
      emit({ event: 'expecting', n: command.n });
    } else if (command.cmd === 'stop') {
      stopping = true;
      await worker.stop();
      return;
    }
  }
}

async function main(): Promise<void> {
  configureLogging({ level: process.env.LOG_LEVEL ?? 'warn' });
  const [system, role, raw] = process.argv.slice(2);
  if (!NODE_SYSTEMS.includes(system as NodeSystemId) || !ROLES.includes(role as Role) || !raw)
    die(`usage: roles/main.js <${NODE_SYSTEMS.join('|')}> <${ROLES.join('|')}> '<params JSON>'`);
  const params = JSON.parse(raw) as RoleParams;
  setTimeout(
    () => die('still running past the deadline'),
    Math.max(0, params.deadline - Date.now()) + OVERTIME_MS,
  ).unref();
  const inbox = new Inbox();
  const adapter = await loadAdapter(system as NodeSystemId);
  if (role === 'worker') await runWorker(adapter, params, inbox);
  else await runClient(adapter, role as Exclude<Role, 'worker'>, params, inbox);
}

main().then(
  () => process.exit(0),
  (error: unknown) => die(error instanceof Error ? error.message : String(error)),
);
