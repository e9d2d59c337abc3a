import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as ts from 'typescript';
import { App, PayloadTypesUnknownError, RemoteTaskError, TaskValidationError } from '@queue/core';
import { testApp } from './helpers';
import { sendRaw } from './raw-message';

// Compiles fixtures with the TypeScript API under the decorator settings a user may have (ts-jest compiles
// everything else with the repository's legacy settings), then loads them and runs their tasks.

const FIXTURES = join(__dirname, 'fixtures', 'decorator-modes');
const CORE_INDEX = join(__dirname, '..', 'src', 'index.ts');
// Inside the package, so the compiled files resolve zod and class-validator from its node_modules.
const CACHE = join(__dirname, '..', 'node_modules', '.cache');

/** `tsc --init` of TypeScript 5.9 (standard decorators), with target ES2022: Node cannot parse `@` itself. */
const STANDARD: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  isolatedModules: true,
  skipLibCheck: true,
  types: ['node'],
};
const LEGACY: ts.CompilerOptions = {
  ...STANDARD,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
};

let outDir: string;
// Parsed files (core's sources, @types/node, zod's types) shared by the programs: parsing is most of the time.
const parsed = new Map<string, ts.SourceFile | undefined>();
const host = ts.createCompilerHost(STANDARD);
const readSource = host.getSourceFile.bind(host);
host.getSourceFile = (fileName, version, ...rest) => {
  const key = `${fileName}@${JSON.stringify(version)}`;
  if (!parsed.has(key)) parsed.set(key, readSource(fileName, version, ...rest));
  return parsed.get(key);
};

/**
 * Type-checks `files` (fixture names) as a program under `options`, `@queue/core` being its sources.
 * @returns the program and each file's diagnostics as `TS<code>: <message>` lines.
 */
function typeCheck(
  files: string[],
  options: ts.CompilerOptions,
): { program: ts.Program; problems: string[] } {
  const program = ts.createProgram({
    rootNames: files.map((file) => join(FIXTURES, file)),
    options: { ...options, paths: { '@queue/core': [CORE_INDEX] } },
    host,
  });
  const problems = files.flatMap((file) => {
    const source = program.getSourceFile(join(FIXTURES, file))!;
    return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
      (d) => `${file} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    );
  });
  return { program, problems };
}

/** Emits fixtures of `program` flat into `outDir`, so their relative imports hold. */
function emit(program: ts.Program, files: string[]): void {
  for (const file of files) {
    const result = program.emit(program.getSourceFile(join(FIXTURES, file)), (name, text) =>
      writeFileSync(join(outDir, basename(name)), text),
    );
    if (result.emitSkipped) throw new Error(`${file} was not emitted`);
  }
}

/** Loads a compiled fixture; `@queue/core` in it is the same module as this test's (jest's mapping). */
function load<T>(name: string): T {
  // jest's require, so that `@queue/core` maps to the sources this test uses (not a second copy).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(outDir, `${name}.js`)) as T;
}

let dtoUnderStandard: string[];

beforeAll(() => {
  mkdirSync(CACHE, { recursive: true });
  outDir = mkdtempSync(join(CACHE, 'decorator-modes-'));
  // The DTO module needs legacy decorators (class-validator), whatever mode its users are compiled in.
  const legacy = typeCheck(['signup-dto.ts', 'legacy-type-import.ts', 'legacy-no-metadata.ts'], LEGACY);
  expect(legacy.problems).toEqual([]);
  emit(legacy.program, ['signup-dto.ts', 'legacy-type-import.ts']);
  // Metadata changes the output only: the same file, emitted without it.
  const noMetadata = ts.transpileModule(readFileSync(join(FIXTURES, 'legacy-no-metadata.ts'), 'utf8'), {
    compilerOptions: { ...LEGACY, emitDecoratorMetadata: false },
  });
  writeFileSync(join(outDir, 'legacy-no-metadata.js'), noMetadata.outputText);

  const standard = typeCheck(['standard-tasks.ts', 'standard-validate-args.ts', 'signup-dto.ts'], STANDARD);
  dtoUnderStandard = standard.problems.filter((line) => line.startsWith('signup-dto.ts'));
  expect(standard.problems.filter((line) => !line.startsWith('signup-dto.ts'))).toEqual([]);
  emit(standard.program, ['standard-tasks.ts', 'standard-validate-args.ts']);
}, 60_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('standard (TC39) decorators', () => {
  type Fixture = typeof import('./fixtures/decorator-modes/standard-tasks');
  let app: App;
  let tasks: Fixture;
  beforeAll(() => {
    tasks = load<Fixture>('standard-tasks');
  });
  beforeEach(async () => {
    app = testApp();
    await app.worker().start();
  });
  afterEach(() => app.close());

  it('compiled as standard decorators (no __decorate / design:paramtypes in the output)', () => {
    const source = readFileSync(join(outDir, 'standard-tasks.js'), 'utf8');
    expect(source).toContain('__esDecorate');
    expect(source).not.toContain('design:paramtypes');
  });

  it('@Task registers the class and it runs on the memory transport', async () => {
    expect(await (await tasks.Add.delay(2, 3)).get({ timeout: 3 })).toBe(5);
  });

  it('@Task registers the class once it is complete (static fields set)', () => {
    expect(app.taskNames).toContain('std.named');
    expect(app.getTask(tasks.Named).options.name).toBe('std.named');
  });

  it('payload: a zod schema validates before sending and in the worker', async () => {
    expect(
      await (await tasks.PlaceOrder.delay({ id: 4, email: 'ada@example.com' })).get({ timeout: 3 }),
    ).toBe('order 4 for ada@example.com');
    const error = await tasks.PlaceOrder.delay({ id: 0, email: 'ada@example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskValidationError);
    expect((error as TaskValidationError).issues).toEqual([
      { property: 'id', constraints: { too_small: expect.any(String) } },
    ]);
    // Sent by another client, without the caller-side check: refused by the worker.
    const id = await sendRaw(app, 'std.order', [{ id: 1, email: 'not-an-email' }]);
    const remote = (await app
      .asyncResult(id)
      .get({ timeout: 3 })
      .catch((e: unknown) => e)) as RemoteTaskError;
    expect(remote).toBeInstanceOf(RemoteTaskError);
    expect(remote.excType).toBe('TaskValidationError');
  });

  it('payload: a class-validator DTO compiled in a legacy-mode module', async () => {
    const { SignupDto } = load<typeof import('./fixtures/decorator-modes/signup-dto')>('signup-dto');
    expect(
      await (await tasks.Signup.delay({ email: 'ada@example.com', age: 36 } as never)).get({ timeout: 3 }),
    ).toBe('true:ada@example.com');
    expect(SignupDto.name).toBe('SignupDto');
    await expect(tasks.Signup.delay({ email: 'ada@example.com', age: 12 } as never)).rejects.toMatchObject({
      name: 'TaskValidationError',
      issues: [{ property: 'age', constraints: { min: 'age must not be less than 18' } }],
    });
  });

  it('@ValidateArgs() type-checks but defining the class throws PayloadTypesUnknownError', () => {
    expect(() => load('standard-validate-args')).toThrow(PayloadTypesUnknownError);
    expect(() => load('standard-validate-args')).toThrow(
      /class StandardValidateArgs .*task 'std\.validate-args'.*standard \(TC39\) decorators emit no parameter types.*payload:/,
    );
  });

  it("class-validator's own decorators do not compile there (why DTOs live in a legacy-mode module)", () => {
    // TS1240: "Unable to resolve signature of property decorator when called as an expression".
    expect(dtoUnderStandard.length).toBeGreaterThan(0);
    expect(new Set(dtoUnderStandard.map((line) => line.split(':')[0]))).toEqual(
      new Set(['signup-dto.ts TS1240']),
    );
  });
});

describe('legacy decorators without usable metadata: @ValidateArgs() refuses the class', () => {
  it('without emitDecoratorMetadata', () => {
    let error: unknown;
    try {
      load('legacy-no-metadata');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PayloadTypesUnknownError);
    expect(error).toMatchObject({ reason: 'no-metadata', code: 'PAYLOAD_TYPES_UNKNOWN' });
    expect((error as Error).message).toMatch(/class NoMetadata .*task 'legacy\.no-metadata'/);
    expect((error as Error).message).toContain(
      'Enable emitDecoratorMetadata (with experimentalDecorators), import the DTO as a value (not `import type`), or use `payload:`',
    );
  });

  it('with the DTO imported by `import type` (emitted as Object or Function)', () => {
    expect(() => load('legacy-type-import')).toThrow(
      expect.objectContaining({
        name: 'PayloadTypesUnknownError',
        reason: 'no-validated-type',
        // A whole program emits Function for it, a per-file compiler (ts-jest, swc, esbuild) Object.
        message: expect.stringMatching(/run's parameter types are \[(Function|Object)\]/),
      }),
    );
  });
});
