import { join, resolve } from 'node:path';
import type { ChildSpec } from './child';
import type { ScenarioId } from './config';
import type { NodeSystemId, Role, RoleParams } from './protocol';

export const SYSTEM_IDS = [
  'raw',
  'raw-same-work',
  'ours-async',
  'ours-redis',
  'ours-postgres',
  'ours-threads',
  'bullmq',
  'celery',
] as const;
export type SystemId = (typeof SYSTEM_IDS)[number];

/** The systems compared, as the harness starts them: each worker and client is a process of its own. */
export interface SystemSpec {
  id: SystemId;
  /** Its row in the table. */
  label: string;
  /** What is measured, in a line (README, JSON). */
  setup: string;
  /** Where its tasks live: RabbitMQ queues, or Redis keys under the session's prefix. */
  store: 'rabbitmq' | 'redis';
  /** `celery` takes Celery's N (its prefork worker is far slower), the others the main N. */
  tier: 'main' | 'celery';
  /** The worker's concurrency. */
  concurrency: number;
  /** The worker or a client, ready to spawn. */
  spawn(role: Role, params: RoleParams, python: string): ChildSpec;
  /** Only these scenarios (the others are left blank in the table). @default all */
  only?: readonly ScenarioId[];
}

/** bench/python (this file is bench/dist/compare/systems.js once built). */
export const PYTHON_DIR = resolve(__dirname, '..', '..', 'python');
const ROLE_MAIN = join(__dirname, 'roles', 'main.js');

/**
 * Extra Node options for the Node workers (`BENCH_WORKER_NODE_ARGS`) or clients (`BENCH_CLIENT_NODE_ARGS`),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them (`--cpu-prof` is not allowed in NODE_OPTIONS,
 * which would reach every process anyway).
 */
function extraNodeArgs(role: Role): string[] {
  const value = role === 'worker' ? process.env.BENCH_WORKER_NODE_ARGS : process.env.BENCH_CLIENT_NODE_ARGS;
  return (value ?? '').split(/\s+/).filter(Boolean);
}

function nodeRole(id: NodeSystemId): SystemSpec['spawn'] {
  return (role, params) => ({
    label: `${id} ${role}`,
    command: process.execPath,
    args: [...extraNodeArgs(role), ROLE_MAIN, id, role, JSON.stringify(params)],
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
}

/** Debian's Celery: the worker is the `celery` command itself (prefork -c 2); clients are our script. */
function celeryRole(role: Role, params: RoleParams, python: string): ChildSpec {
  const env = { BENCH_BROKER: params.broker, BENCH_QUEUE: params.queue, BENCH_EXPECT: String(params.n) };
  if (role !== 'worker')
    return {
      label: `celery ${role}`,
      command: python,
      args: ['celery_bench.py', role, JSON.stringify(params)],
      cwd: PYTHON_DIR,
      env,
    };
  return {
    label: 'celery worker',
    command: python,
    args: [
      '-m',
      'celery',
      '-A',
      'celery_bench_app',
      'worker',
      '-P',
      'prefork',
      '-c',
      String(params.concurrency),
      '-Q',
      params.queue,
      '-n',
      `${params.queue}@%h`,
      '-l',
      'WARNING',
      // Cluster chatter a single benchmark worker has no use for (it only slows the start).
      '--without-gossip',
      '--without-mingle',
      '--without-heartbeat',
    ],
    cwd: PYTHON_DIR,
    env,
  };
}

export const SYSTEMS: Record<SystemId, SystemSpec> = {
  raw: {
    id: 'raw',
    label: 'raw amqplib',
    setup:
      'amqplib: confirm-channel publisher (persistent messages, durable classic queue), consumer with prefetch 100 and manual acks; round trips over an exclusive reply queue with correlation ids',
    store: 'rabbitmq',
    tier: 'main',
    concurrency: 100,
    spawn: nodeRole('raw'),
  },
  'raw-same-work': {
    id: 'raw-same-work',
    label: 'raw amqplib, same work',
    setup:
      "amqplib doing what ours does: Celery's protocol-v2 messages from our codec, each task's state published to the client's reply queue on a confirm channel, the delivery acked once that is confirmed (prefetch 64), a client consuming its reply queue; no ack coalescing, no empty-header trimming",
    store: 'rabbitmq',
    tier: 'main',
    concurrency: 64,
    spawn: nodeRole('raw-same-work'),
  },
  'ours-async': {
    id: 'ours-async',
    label: 'ours (async pool)',
    setup:
      'app.task function task; delay() resolving on the confirm; worker concurrency 16, async pool, acks late; get() over rpc://',
    store: 'rabbitmq',
    tier: 'main',
    concurrency: 16,
    spawn: nodeRole('ours-async'),
  },
  'ours-redis': {
    id: 'ours-redis',
    label: 'ours, redis:// results',
    setup: 'as ours (async pool), with the redis:// result backend (127.0.0.1:6379/0) instead of rpc://',
    store: 'rabbitmq',
    tier: 'main',
    concurrency: 16,
    spawn: nodeRole('ours-redis'),
    only: ['roundtrip', 'latency'],
  },
  'ours-postgres': {
    id: 'ours-postgres',
    label: 'ours, postgresql:// results',
    setup:
      'as ours (async pool), with the postgresql:// result backend (127.0.0.1:5432/test, its own table) instead of rpc://',
    store: 'rabbitmq',
    tier: 'main',
    concurrency: 16,
    spawn: nodeRole('ours-postgres'),
    only: ['roundtrip', 'latency'],
  },
  'ours-threads': {
    id: 'ours-threads',
    label: 'ours (threads pool)',
    setup:
      'as ours (async pool), with pool: threads (16 worker threads at most, each loading the App module)',
    store: 'rabbitmq',
    tier: 'main',
    concurrency: 16,
    spawn: nodeRole('ours-threads'),
  },
  bullmq: {
    id: 'bullmq',
    label: 'BullMQ c50',
    setup:
      'BullMQ on Redis: queue.add, Worker concurrency 50, finished jobs removed (the last 1000 kept); round trips with job.waitUntilFinished(QueueEvents)',
    store: 'redis',
    tier: 'main',
    concurrency: 50,
    spawn: nodeRole('bullmq'),
  },
  celery: {
    id: 'celery',
    label: 'Celery prefork c2',
    setup:
      "Debian's Celery worker -P prefork -c 2 on the same RabbitMQ, rpc:// backend, JSON serializer; Python client (apply_async with publisher confirms, a few threads; AsyncResult.get)",
    store: 'rabbitmq',
    tier: 'celery',
    concurrency: 2,
    spawn: celeryRole,
  },
};

/** `raw,ours-async` → the systems, in the table's order; throws on an unknown one. */
export function parseSystems(list: string): SystemSpec[] {
  const wanted = new Set(
    list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const id of wanted)
    if (!(SYSTEM_IDS as readonly string[]).includes(id))
      throw new Error(`unknown system "${id}" (known: ${SYSTEM_IDS.join(', ')})`);
  return SYSTEM_IDS.filter((id) => wanted.has(id)).map((id) => SYSTEMS[id]);
}
