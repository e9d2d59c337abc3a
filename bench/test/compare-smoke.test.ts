/**
 * The comparison harness must not rot: `--smoke` runs every system through every scenario with tiny N and
 * one repetition (no thresholds: the figures mean nothing at that size), on the built bench/dist, in a child
 * process (scripts/test.sh builds before jest runs). Needs RabbitMQ, Redis and Debian's Celery, as CI has.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'bench', 'dist', 'compare', 'main.js');
const ROWS = [
  'raw amqplib',
  'raw amqplib, same work',
  'ours (async pool)',
  'ours, redis:// results',
  'ours, postgresql:// results',
  'ours (threads pool)',
  'BullMQ c50',
  'Celery prefork c2',
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runSmoke(out: string): Promise<Run> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // jest's vm-modules flag is for jest itself
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, '--smoke', '--out', out],
      { cwd: ROOT, env, timeout: 110_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

test('bench compare --smoke runs every system and scenario and prints the table', async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (bash scripts/pnpm.sh -r build)`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-compare-'));
  try {
    const out = join(dir, 'compare.json');
    const run = await runSmoke(out);
    expect({ code: run.code, stderr: run.stderr.slice(-3000) }).toEqual({ code: 0, stderr: '' });

    const lines = run.stdout.split('\n');
    const header = lines.find((line) => line.startsWith('| system'));
    expect(header).toContain('enqueue /s');
    expect(header).toContain('latency p99 ms');
    for (const row of ROWS) expect(lines.filter((line) => line.startsWith(`| ${row} `))).toHaveLength(1);

    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      steps: Array<{ status: string }>;
      versions: Record<string, unknown>;
    };
    // Every scenario for each system, but round trip and latency only for the two result stores.
    expect(result.steps).toHaveLength((ROWS.length - 2) * 6 + 2 * 2);
    expect(result.steps.every((step) => step.status === 'ok')).toBe(true);
    for (const key of ['amqplib', 'bullmq', 'rabbitmq', 'redis', 'celery', 'queueCore', 'gitCommit'])
      expect(result.versions[key]).toBeTruthy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
