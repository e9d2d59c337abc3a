import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { rabbitServerProperties } from '../lib/broker';
import { redisServerVersion } from '../lib/redis';
import { PYTHON_DIR } from './systems';

const run = promisify(execFile);
const PROBE_TIMEOUT_MS = 15_000;

/** Versions of everything measured (null: could not be read, `errors` says why). */
export interface Versions {
  node: string;
  queueCore: string | null;
  queueAmqp: string | null;
  amqplib: string | null;
  bullmq: string | null;
  ioredis: string | null;
  rabbitmq: string | null;
  redis: string | null;
  celery: Record<string, string> | null;
  gitCommit: string | null;
  /** The work tree had changes against that commit (`git status`, read-only). */
  gitDirty: boolean | null;
  errors: Record<string, string>;
}

/** The `version` of an installed package, found from its entry point (some export no package.json). */
function packageVersion(name: string): string | null {
  try {
    let dir = dirname(require.resolve(name));
    for (let up = 0; up < 6; up++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name?: string;
          version?: string;
        };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {
        // no package.json at this level
      }
    }
  } catch {
    // not installed
  }
  return null;
}

async function probe<T>(
  errors: Record<string, string>,
  what: string,
  read: () => Promise<T>,
): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    errors[what] = (error as Error).message.split('\n')[0]!;
    return null;
  }
}

export async function collectVersions(options: {
  broker: string;
  redis: string;
  python: string;
  celery: boolean;
  redisNeeded: boolean;
}): Promise<Versions> {
  const errors: Record<string, string> = {};
  const repo = join(__dirname, '..', '..', '..');
  const git = (args: string[]) =>
    run('git', ['--no-optional-locks', ...args], { cwd: repo, timeout: PROBE_TIMEOUT_MS });
  const [rabbit, redis, celery, commit, status] = await Promise.all([
    probe(errors, 'rabbitmq', async () => {
      const props = await rabbitServerProperties(options.broker);
      return `${props.product} ${props.version}`;
    }),
    options.redisNeeded
      ? probe(errors, 'redis', () => redisServerVersion(options.redis))
      : Promise.resolve(null),
    options.celery
      ? probe(errors, 'celery', async () => {
          const { stdout } = await run(options.python, ['celery_bench.py', 'versions', '{}'], {
            cwd: PYTHON_DIR,
            timeout: PROBE_TIMEOUT_MS,
          });
          return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, string>;
        })
      : Promise.resolve(null),
    probe(errors, 'gitCommit', async () => (await git(['rev-parse', 'HEAD'])).stdout.trim()),
    probe(errors, 'gitDirty', async () => (await git(['status', '--porcelain'])).stdout.trim() !== ''),
  ]);
  return {
    node: process.version,
    queueCore: packageVersion('@queue/core'),
    queueAmqp: packageVersion('@queue/amqp'),
    amqplib: packageVersion('amqplib'),
    bullmq: packageVersion('bullmq'),
    ioredis: packageVersion('ioredis'),
    rabbitmq: rabbit,
    redis,
    celery,
    gitCommit: commit,
    gitDirty: status,
    errors,
  };
}

/** One line: `node v20.20.2 · @queue/core 0.1.0 · … · git abc1234 (+ local changes)`. */
export function versionsLine(v: Versions): string {
  /** null: failed (its error is kept) or not asked for (that system was not selected). */
  const shown = (value: string | null, key: string) => value ?? (v.errors[key] ? '?' : 'n/a');
  const parts = [
    `node ${v.node}`,
    `@queue/core ${v.queueCore ?? '?'}`,
    `@queue/amqp ${v.queueAmqp ?? '?'}`,
    `amqplib ${v.amqplib ?? '?'}`,
    `RabbitMQ ${shown(v.rabbitmq?.replace(/^RabbitMQ /, '') ?? null, 'rabbitmq')}`,
    `bullmq ${v.bullmq ?? '?'}`,
    `ioredis ${v.ioredis ?? '?'}`,
    `Redis ${shown(v.redis, 'redis')}`,
    v.celery
      ? `Celery ${v.celery.celery ?? '?'} (kombu ${v.celery.kombu ?? '?'}, py-amqp ${v.celery.amqp ?? '?'}, billiard ${v.celery.billiard ?? '?'}, Python ${v.celery.python ?? '?'})`
      : `Celery ${shown(null, 'celery')}`,
    `git ${v.gitCommit?.slice(0, 7) ?? '?'}${v.gitDirty ? ' (+ local changes)' : ''}`,
  ];
  return parts.join(' · ');
}
