import { isAbsolute, relative, resolve, sep } from 'node:path';

/** This package's own code (src/ or dist/): frames there are the framework, not the user's definition. */
const OWN_ROOT = resolve(__dirname, '..') + sep;

/** TypeScript's decorator helpers, emitted into the user's file: legacy `__decorate`, standard `__esDecorate`/`__runInitializers`. */
const DECORATOR_HELPERS = new Set(['__decorate', '__esDecorate', '__runInitializers']);

/** `at fn (file:line:col)` or `at file:line:col`; the function name is optional. */
const FRAME = /^\s*at (?:(?:async )?(\S+) .*?\()?(.+?):(\d+):\d+\)?$/;

/**
 * Where the code that is defining a task stands (`src/tasks.ts:12`, relative to the working directory):
 * the first stack frame outside this package, decorator helpers and dependencies. Read once per task
 * definition, so that a duplicate name can point at both definitions. Undefined when no frame qualifies.
 */
export function definitionSite(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50; // decorators sit under reflect-metadata's frames
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const [, fn, rawFile, lineNumber] = match;
    const file = rawFile!.replace(/^file:\/\//, '');
    if (!isAbsolute(file) || file.startsWith(OWN_ROOT)) continue;
    if (file.includes(`${sep}node_modules${sep}`) || DECORATOR_HELPERS.has(fn ?? '')) continue;
    const shown = relative(process.cwd(), file);
    return `${shown.startsWith('..') ? file : shown}:${lineNumber}`;
  }
  return undefined;
}
