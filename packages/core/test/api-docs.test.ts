import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The API reference (`npm run docs`, typedoc.json) builds without a single warning: every `{@link}` resolves,
 * every public declaration has a doc comment, no public member uses a type that no entry point exports. And
 * its model is checked for what TypeDoc cannot check: it documents every entry point of every package's
 * `exports`, under the package's name, and every option has its `@default` (or is required).
 *
 * TypeDoc runs as `npm run docs` does (its CLI, same config), writing into a temporary folder; warnings are
 * listed, not fatal there, so that the model is written and checked even when they fail the first test.
 */
const ROOT = join(__dirname, '..', '..', '..');
const TYPEDOC = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');

/** The user-facing options: each optional property says its default, each required one what it is. */
const OPTION_TYPES: Record<string, readonly string[]> = {
  '@queue/core': [
    'AppOptions',
    'TaskOptions',
    'TaskDefaults',
    'BoundTaskOptions',
    'ApplyOptions',
    'SignatureOptions',
    'GetOptions',
    'RetryOptions',
    'WorkerOptions',
    'ThreadAppModule',
    'LoggingOptions',
    'ControlTarget',
    'ControlCallOptions',
    'RevokeOptions',
    'BeatOptions',
    'BeatScheduleEntry',
    'BeatEntryOptions',
    'CrontabFields',
  ],
  '@queue/core/metrics': ['WorkerMetricsOptions', 'MetricsServerOptions'],
  '@queue/amqp': ['AmqpTransportOptions', 'AmqpTlsOptions'],
  '@queue/redis': ['RedisAddress'],
  '@queue/postgres': ['PostgresBackendOptions', 'PostgresSettings'],
  '@queue/dashboard': [
    'DashboardOptions',
    'DashboardAuth',
    'DashboardServerOptions',
    'DashboardPluginOptions',
  ],
};

// ---- the parts of TypeDoc's JSON model read here ----

interface CommentPart {
  text: string;
}
interface Comment {
  summary: CommentPart[];
  blockTags?: Array<{ tag: string; content: CommentPart[] }>;
}
interface SomeType {
  type: string;
  name?: string;
  target?: number | { packageName: string; qualifiedName: string };
  typeArguments?: SomeType[];
  types?: SomeType[];
  value?: unknown;
  declaration?: Reflection;
}
interface Reflection {
  id: number;
  name: string;
  kind: number;
  flags: { isOptional?: boolean };
  comment?: Comment;
  children?: Reflection[];
  type?: SomeType;
}

/** TypeDoc's ReflectionKind values used here. */
const KIND = { Module: 2, Interface: 256, Property: 1024, TypeAlias: 2097152 } as const;

interface Property {
  owner: string;
  name: string;
  optional: boolean;
  comment: Comment | undefined;
}

/** The string literals of `'a' | 'b'` (the keys of a `Pick`/`Omit`). */
function literals(type: SomeType | undefined): string[] {
  if (!type) return [];
  if (type.type === 'literal' && typeof type.value === 'string') return [type.value];
  if (type.type === 'union') return (type.types ?? []).flatMap(literals);
  throw new Error(`cannot read the keys of ${JSON.stringify(type)}`);
}

/** The properties a type has, through interfaces, aliases, `Pick`, `Omit`, `Partial` and intersections. */
function propertiesOf(type: SomeType, byId: Map<number, Reflection>, owner: string): Property[] {
  if (type.type === 'intersection') return (type.types ?? []).flatMap((t) => propertiesOf(t, byId, owner));
  if (type.type === 'reflection') {
    return (type.declaration?.children ?? [])
      .filter((child) => child.kind === KIND.Property)
      .map((child) => ({
        owner,
        name: child.name,
        optional: child.flags.isOptional === true,
        comment: child.comment,
      }));
  }
  if (type.type === 'reference' && typeof type.target === 'number') {
    const target = byId.get(type.target)!;
    if (target.kind === KIND.TypeAlias) return propertiesOf(target.type!, byId, target.name);
    return (target.children ?? [])
      .filter((child) => child.kind === KIND.Property)
      .map((child) => ({
        owner: target.name,
        name: child.name,
        optional: child.flags.isOptional === true,
        comment: child.comment,
      }));
  }
  if (type.type === 'reference' && ['Pick', 'Omit', 'Partial', 'Readonly'].includes(type.name ?? '')) {
    const [inner, keys] = type.typeArguments ?? [];
    const properties = propertiesOf(inner!, byId, owner);
    if (type.name === 'Pick') return properties.filter((p) => literals(keys).includes(p.name));
    if (type.name === 'Omit') return properties.filter((p) => !literals(keys).includes(p.name));
    return properties.map((p) => ({ ...p, optional: type.name === 'Partial' || p.optional }));
  }
  throw new Error(`${owner}: cannot list the properties of ${JSON.stringify(type).slice(0, 200)}`);
}

const text = (parts: readonly CommentPart[] | undefined): string =>
  (parts ?? [])
    .map((part) => part.text)
    .join('')
    .trim();

/** What is missing from one option's comment: a summary always, a non-empty `@default` when optional. */
function problemOf(property: Property): string | undefined {
  const where = `${property.owner}.${property.name}`;
  if (!property.comment || text(property.comment.summary) === '') return `${where}: no description`;
  if (!property.optional) return undefined;
  const tag = property.comment.blockTags?.find((t) => t.tag === '@default' || t.tag === '@defaultValue');
  if (!tag) return `${where}: optional, but no @default`;
  if (text(tag.content) === '') return `${where}: empty @default`;
  return undefined;
}

/** `@queue/core/transport` → packages/core/src/transport/index.ts, for every entry of every package's `exports`. */
function publicEntryPoints(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const dir of readdirSync(join(ROOT, 'packages'))) {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as {
      name: string;
      exports: Record<string, string | { default?: string; require?: string }>;
    };
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (subpath === './package.json') continue;
      const built = typeof target === 'string' ? target : (target.default ?? target.require ?? '');
      // ./dist/transport/index.js is built from src/transport/index.ts
      const source = built.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      // A package still being scaffolded (its entry not written yet) cannot be documented yet.
      if (!existsSync(join(ROOT, 'packages', dir, source))) continue;
      entries.set(
        subpath === '.' ? manifest.name : `${manifest.name}${subpath.slice(1)}`,
        `packages/${dir}/${source}`,
      );
    }
  }
  return entries;
}

describe('API reference (TypeDoc)', () => {
  let out: string;
  let output: string;
  let status: number | null;
  let project: Reflection | undefined;

  /** TypeDoc's model of the docs; without one, TypeDoc's output says why. */
  const model = (): Reflection => {
    if (!project) throw new Error(`typedoc wrote no model (exit ${status}); its output:\n${output}`);
    return project;
  };

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'api-docs-'));
    const run = spawnSync(
      process.execPath,
      [
        TYPEDOC,
        ...['--options', 'typedoc.json', '--out', join(out, 'html'), '--json', join(out, 'api.json')],
        ...['--treatWarningsAsErrors', 'false', '--treatValidationWarningsAsErrors', 'false'],
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      },
    );
    // eslint-disable-next-line no-control-regex
    output = `${run.stdout}${run.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
    status = run.status;
    const json = join(out, 'api.json');
    if (existsSync(json)) project = JSON.parse(readFileSync(json, 'utf8')) as Reflection;
  }, 120_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('builds with no warning or error (a broken {@link}, an undocumented export, an unexported type)', () => {
    const problems = output.split('\n').filter((line) => /\[(warning|error)\]/.test(line));
    if (status !== 0 || problems.length > 0) {
      throw new Error(`typedoc exited with ${status}; its output:\n${output}`);
    }
  });

  test('documents every entry point of every package, under its import name', () => {
    const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as {
      entryPoints: string[];
      packagesRequiringDocumentation: string[];
    };
    const entries = publicEntryPoints();
    expect([...config.entryPoints].sort()).toEqual([...entries.values()].sort());
    const packages = new Set([...entries.keys()].map((name) => name.split('/').slice(0, 2).join('/')));
    expect([...config.packagesRequiringDocumentation].sort()).toEqual([...packages].sort());
    const modules = (model().children ?? []).filter((child) => child.kind === KIND.Module);
    // A module named after its folder (core/src/metrics) lacks the `@module \@queue/…` tag in the first
    // comment of its entry file, the comment that is the module's page.
    expect(modules.map((module) => module.name).sort()).toEqual([...entries.keys()].sort());
    const undescribed = modules.filter((module) => text(module.comment?.summary) === '');
    expect(undescribed.map((module) => module.name)).toEqual([]);
  });

  test('every option says its default (@default) or is required', () => {
    const byId = new Map<number, Reflection>();
    const index = (reflection: Reflection): void => {
      byId.set(reflection.id, reflection);
      for (const child of reflection.children ?? []) index(child);
    };
    index(model());
    const problems: string[] = [];
    let checked = 0;
    for (const [moduleName, names] of Object.entries(OPTION_TYPES)) {
      const module = model().children?.find((child) => child.name === moduleName);
      if (!module) throw new Error(`no module ${moduleName} in the API reference`);
      for (const name of names) {
        const declaration = module.children?.find((child) => child.name === name);
        if (!declaration) throw new Error(`${moduleName} documents no ${name}`);
        const properties = propertiesOf({ type: 'reference', target: declaration.id }, byId, name);
        if (properties.length === 0) problems.push(`${name}: no properties found`);
        for (const property of properties) {
          checked += 1;
          const problem = problemOf(property);
          if (problem) problems.push(property.owner === name ? problem : `${name}: ${problem}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });
});
