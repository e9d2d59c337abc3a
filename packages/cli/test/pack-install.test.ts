/**
 * "Installable anywhere": every public package is packed as it would be published (`pnpm pack` rewrites the
 * `workspace:` ranges), the tarballs are installed with npm into a fresh project outside the workspace, and
 * that project uses them as a consumer would: CommonJS and ESM imports running tasks on memory://, a
 * TypeScript file compiled against the shipped .d.ts only, and `npx queue worker` / `npx queue call --wait`
 * on the local RabbitMQ. Needs the built packages (scripts/test.sh builds before jest) and, the first time,
 * the npm registry for third-party dependencies (later runs take them from npm's cache).
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve, sep } from 'node:path';
import { AMQP_URL, deleteQueues } from './helpers';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURES = join(__dirname, 'fixtures', 'consumer');

interface Manifest {
  name: string;
  private?: boolean;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  devDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The packages a user can install: packages/* that are not private, by directory. */
const PUBLIC = readdirSync(join(ROOT, 'packages')).filter((dir) => {
  const path = join(ROOT, 'packages', dir, 'package.json');
  return existsSync(path) && !readJson<Manifest>(path).private;
});

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a shell outside the workspace: no jest NODE_OPTIONS, none of the npm/pnpm settings of
 * the run that started jest, and no workspace `node_modules/.bin` on PATH (else `npx queue` could find the
 * workspace's own bin instead of the installed one).
 */
function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key === 'INIT_CWD') continue;
    if (/^p?npm_/i.test(key) && !/^npm_config_(cache|registry|userconfig)$/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => entry && !resolve(entry).startsWith(ROOT + sep))
    .join(delimiter);
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', ...extra };
}

/** Runs `command` to its end (killed after `timeoutMs`). */
function runIn(
  cwd: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<Finished> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** The `result: {...}` line a consumer fixture prints (worker logs may surround it). */
function resultOf(run: Finished): unknown {
  const line = run.stdout.split('\n').find((text) => text.startsWith('result: '));
  if (run.code !== 0 || !line) {
    throw new Error(
      `exit ${run.code}, no result line:\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`,
    );
  }
  return JSON.parse(line.slice('result: '.length));
}

/** Every file under `dir`, as paths relative to it with `/`. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

/** What is wrong with one unpacked tarball (empty: nothing). */
function problemsOf(pkgDir: string): string[] {
  const problems: string[] = [];
  const files = listFiles(pkgDir);
  const has = (path: string) => existsSync(join(pkgDir, path));
  const license = has('LICENSE') ? readFileSync(join(pkgDir, 'LICENSE'), 'utf8') : '';
  if (!/^MIT License/.test(license) || !license.includes('the queue authors'))
    problems.push('no MIT LICENSE');
  const manifestText = readFileSync(join(pkgDir, 'package.json'), 'utf8');
  if (manifestText.includes('workspace:')) problems.push('package.json keeps a workspace: range');
  const manifest = JSON.parse(manifestText) as Manifest;
  const entries = [
    manifest.main,
    manifest.types,
    ...Object.values(manifest.bin ?? {}),
    ...Object.values(manifest.exports ?? {}).flatMap((target) =>
      typeof target === 'string' ? [target] : Object.values(target),
    ),
  ];
  for (const entry of entries) if (entry && !has(entry)) problems.push(`entry point ${entry} is missing`);
  for (const file of files) {
    if (/(^|\/)(test|__tests__)\/|\.tsbuildinfo$|\.test\.[cm]?[jt]s$/.test(file))
      problems.push(`ships ${file}`);
    if (/\.[cm]?js$|\.d\.[cm]?ts$/.test(file)) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(pkgDir, file), 'utf8'))?.[1];
      if (url && !has(join(dirname(file), url))) problems.push(`${file} points to missing map ${url}`);
    }
    if (!file.endsWith('.map')) continue;
    const map = readJson<{ sourceRoot?: string; sources: string[] }>(join(pkgDir, file));
    for (const source of map.sources) {
      const path = resolve(pkgDir, dirname(file), map.sourceRoot ?? '', source);
      if (relative(pkgDir, path).startsWith('..') || !existsSync(path)) {
        problems.push(`${file} maps to ${source}, not in the tarball`);
      }
    }
  }
  return problems;
}

describe('the packed packages, installed with npm outside the workspace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'queue-pack-'));
  const project = join(dir, 'consumer');
  const queue = `test.pack.${process.pid}.${Date.now()}`;
  const workerPidFile = join(dir, 'worker.pid');
  const timings: Record<string, number> = {};
  const begun = Date.now();
  let worker: ReturnType<typeof spawn> | undefined;
  /** The consumer's type-check, started as soon as the install is done: it is the slowest step (about
   * 13 s of CPU, most of it checking @types/node), so the other tests run while it does. */
  let typeCheck: Promise<Finished> | undefined;
  let standardCheck: Promise<Finished> | undefined;

  /** The worker's own pid, as app.js wrote it (never 0 or our group: kill(0) would signal jest itself). */
  function workerPid(): number {
    const pid = Number(readFileSync(workerPidFile, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) throw new Error(`bad worker pid ${pid}`);
    return pid;
  }

  async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings[label] = (Date.now() - started) / 1000;
    }
  }

  beforeAll(async () => {
    for (const pkg of PUBLIC) {
      if (!existsSync(join(ROOT, 'packages', pkg, 'dist'))) {
        throw new Error(`packages/${pkg}/dist is missing: build first (bash scripts/pnpm.sh -r build)`);
      }
    }
    const tarballs = join(dir, 'tarballs');
    const pack = await timed('pnpm pack', () =>
      runIn(
        ROOT,
        'bash',
        [
          'scripts/pnpm.sh',
          '-r',
          ...PUBLIC.flatMap((pkg) => ['--filter', `./packages/${pkg}`]),
          'pack',
          '--pack-destination',
          tarballs,
          '--workspace-concurrency',
          'Infinity',
        ],
        { ...process.env, NODE_OPTIONS: '' },
      ),
    );
    if (pack.code !== 0) throw new Error(`pnpm pack failed:\n${pack.stdout}\n${pack.stderr}`);
    const packed = readdirSync(tarballs).filter((name) => name.endsWith('.tgz'));
    expect(packed).toHaveLength(PUBLIC.length);

    await timed('unpack', async () => {
      for (const tarball of packed) {
        const out = join(dir, 'unpacked', tarball.replace(/\.tgz$/, ''));
        mkdirSync(out, { recursive: true });
        const untar = await runIn(out, 'tar', ['-xzf', join(tarballs, tarball), '--strip-components=1'], {
          ...process.env,
        });
        if (untar.code !== 0) throw new Error(`tar ${tarball}: ${untar.stderr}`);
      }
    });

    // A consumer project: the fixtures, the tarballs, and the @types/node every Node TypeScript project has.
    cpSync(FIXTURES, project, { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true }, null, 2),
    );
    const typesNode = readJson<Manifest>(join(ROOT, 'package.json')).devDependencies?.['@types/node'];
    const install = await timed('npm install', () =>
      runIn(
        project,
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          '--loglevel=error',
          ...packed.map((name) => join(tarballs, name)),
          `@types/node@${typesNode}`,
        ],
        consumerEnv(),
        90_000,
      ),
    );
    if (install.code !== 0) throw new Error(`npm install failed:\n${install.stdout}\n${install.stderr}`);
    typeCheck = timed('tsc (beside the other tests)', () =>
      runIn(
        project,
        join(ROOT, 'node_modules', '.bin', 'tsc'),
        ['-p', 'tsconfig.json'],
        consumerEnv(),
        90_000,
      ),
    );
    standardCheck = timed('tsc, standard decorators', () =>
      runIn(
        project,
        join(ROOT, 'node_modules', '.bin', 'tsc'),
        ['-p', 'tsconfig.standard.json'],
        consumerEnv(),
        90_000,
      ),
    );
  });

  afterAll(async () => {
    if (worker?.pid && worker.exitCode === null && worker.signalCode === null) {
      // A failed test left it running: end npx, its shell and the worker, the process group started below.
      try {
        process.kill(-worker.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await typeCheck;
    await deleteQueues(queue);
    rmSync(dir, { recursive: true, force: true });
    timings.total = (Date.now() - begun) / 1000;
    console.log(
      `pack-install timings (s): ${Object.entries(timings)
        .map(([label, seconds]) => `${label} ${seconds.toFixed(1)}`)
        .join(', ')}`,
    );
  });

  test('each tarball has its LICENSE, the sources its maps name, its entry points, and no tests', () => {
    const unpacked = readdirSync(join(dir, 'unpacked'));
    const problems = Object.fromEntries(
      unpacked.map((name) => [name, problemsOf(join(dir, 'unpacked', name))]),
    );
    expect(problems).toEqual(Object.fromEntries(unpacked.map((name) => [name, []])));
  });

  test('CommonJS and ESM consumers load every entry point and run tasks on memory://', async () => {
    const env = consumerEnv({ LOG_LEVEL: 'error' });
    // Every subpath of every package's `exports` (bar package.json), as a user would name it.
    const specifiers = readdirSync(join(dir, 'unpacked')).flatMap((name) => {
      const manifest = readJson<Manifest>(join(dir, 'unpacked', name, 'package.json'));
      return Object.keys(manifest.exports ?? { '.': '' })
        .filter((subpath) => subpath !== './package.json')
        .map((subpath) => manifest.name + subpath.slice(1));
    });
    expect(specifiers).toEqual(expect.arrayContaining(['@queue/core', '@queue/core/testing', '@queue/cli']));
    const [cjs, esm, entries] = await timed('run .cjs + .mjs', () =>
      Promise.all([
        runIn(project, process.execPath, ['memory.cjs'], env, 30_000),
        runIn(project, process.execPath, ['memory.mjs'], env, 30_000),
        runIn(project, process.execPath, ['entries.mjs', ...specifiers], env, 30_000),
      ]),
    );
    const expected = { sum: 5, chained: 10, loaded: Array(6).fill('function') };
    expect(resultOf(cjs)).toEqual(expected);
    expect(resultOf(esm)).toEqual(expected);
    expect(resultOf(entries)).toEqual([]);
  });

  test('`npx queue worker` runs a task sent by `npx queue call --wait` on RabbitMQ', async () => {
    const env = consumerEnv({ AMQP_URL, QUEUE: queue, LOG_LEVEL: 'warn' });
    const started = Date.now();
    const child = spawn(
      'npx',
      ['--no', 'queue', 'worker', '--app', './app.js', '-n', `pack-${process.pid}@test`],
      {
        cwd: project,
        env: { ...env, WORKER_PID_FILE: workerPidFile },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group, for the clean-up after a failure
      },
    );
    worker = child;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    for (let waited = 0; !/ready\./.test(output); waited += 50) {
      if (child.exitCode !== null || waited > 30_000) throw new Error(`worker not ready:\n${output}`);
      await new Promise((done) => setTimeout(done, 50));
    }
    timings['worker ready'] = (Date.now() - started) / 1000;

    const call = await timed('queue call --wait', () =>
      runIn(
        project,
        'npx',
        [
          '--no',
          'queue',
          'call',
          'consumer.add',
          '--args',
          '[2, 3]',
          '--app',
          './app.js',
          '--wait',
          '--timeout',
          '20',
        ],
        env,
        40_000,
      ),
    );
    expect({ code: call.code, stdout: call.stdout.trim() }).toEqual({ code: 0, stdout: '5' });

    // SIGTERM is the warm shutdown: the worker exits 0, and so do the shell and npm around it.
    process.kill(workerPid(), 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await timed('worker stop', () =>
      Promise.race([
        exited,
        new Promise<string>((done) => (timer = setTimeout(() => done('still running'), 20_000))),
      ]),
    );
    clearTimeout(timer);
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
  });

  test.each([
    ['legacy decorators with metadata, skipLibCheck off', () => typeCheck!, 'out'],
    ['standard decorators (what tsc --init writes)', () => standardCheck!, 'out-standard'],
  ])('a TypeScript consumer compiles against the shipped .d.ts (%s) and runs', async (_mode, check, out) => {
    const tsc = await check();
    expect({ code: tsc.code, errors: tsc.stdout + tsc.stderr }).toEqual({ code: 0, errors: '' });
    const run = await timed(`run compiled .ts (${out})`, () =>
      runIn(project, process.execPath, [`${out}/typed.js`], consumerEnv({ LOG_LEVEL: 'error' }), 30_000),
    );
    expect(resultOf(run)).toEqual({
      sum: 5,
      doubled: 42,
      chained: 10,
      half: 4,
      refused: 'refused',
      loaded: 5,
    });
  });
});
