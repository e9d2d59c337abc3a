/**
 * A tiny `--name value` / `--name=value` parser for the benchmark scripts: numbers, strings, and switches
 * (a boolean default: `--name` alone sets it, `--name=false` clears it).
 */

export interface FlagSpec {
  description: string;
  default: number | string | boolean;
  /** For numeric flags: the smallest accepted value. */
  min?: number;
  /** For numeric flags: only whole numbers. */
  integer?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

export type FlagValues<S extends FlagSpecs> = {
  -readonly [K in keyof S]: S[K]['default'] extends number
    ? number
    : S[K]['default'] extends boolean
      ? boolean
      : string;
};

/** A bad command line: main prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function parseValue(name: string, spec: FlagSpec, raw: string): number | string | boolean {
  if (typeof spec.default === 'string') return raw;
  if (typeof spec.default === 'boolean') {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new UsageError(`--${name} is a switch: --${name}, --${name}=true or --${name}=false, got "${raw}"`);
  }
  const value = Number(raw.replace(/_/g, ''));
  if (raw.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${name} needs a number, got "${raw}"`);
  if (spec.integer && !Number.isInteger(value))
    throw new UsageError(`--${name} needs a whole number, got ${raw}`);
  if (spec.min !== undefined && value < spec.min)
    throw new UsageError(`--${name} must be ≥ ${spec.min}, got ${raw}`);
  return value;
}

/** Parses `argv` (without node and the script); `'help'` when `--help` / `-h` was given. */
export function parseFlags<S extends FlagSpecs>(argv: readonly string[], specs: S): FlagValues<S> | 'help' {
  const values: Record<string, number | string | boolean> = {};
  for (const [name, spec] of Object.entries(specs)) values[name] = spec.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unexpected argument "${arg}"`);
    const name = match[1]!;
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    let raw = match[2];
    if (raw === undefined && typeof spec.default === 'boolean') raw = 'true';
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    }
    values[name] = parseValue(name, spec, raw);
  }
  return values as FlagValues<S>;
}

/** `usage: <command> [flags]` and one line per flag with its default. */
export function usage(command: string, specs: FlagSpecs): string {
  const lines = Object.entries(specs).map(
    ([name, spec]) => `  --${name.padEnd(16)} ${spec.description} (default: ${String(spec.default)})`,
  );
  return [`usage: ${command} [flags]`, ...lines].join('\n');
}
