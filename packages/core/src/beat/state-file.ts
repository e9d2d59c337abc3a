import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigurationError } from '../errors';

/** What the beat remembers of one entry across restarts (Celery's `last_run_at`, `total_run_count`). */
export interface EntryState {
  /** The task it sends (a renamed task starts afresh). */
  readonly task: string;
  /** `Schedule.key` when this was recorded (a changed schedule starts afresh). */
  readonly schedule: string;
  /** Epoch ms of the last send. */
  readonly lastRunAt: number;
  readonly totalRunCount: number;
}

export interface BeatState {
  /** The timezone crontabs were read in; another one resets every entry (as Celery). */
  readonly timezone: string;
  readonly entries: Readonly<Record<string, EntryState>>;
}

/** Version of the file layout, written as `version`. */
const FORMAT_VERSION = 1;

interface StoredEntry {
  task: string;
  schedule: string;
  lastRunAt: string;
  totalRunCount: number;
}

function parseEntry(value: unknown): EntryState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const stored = value as Partial<StoredEntry>;
  const lastRunAt = typeof stored.lastRunAt === 'string' ? Date.parse(stored.lastRunAt) : NaN;
  if (
    typeof stored.task !== 'string' ||
    typeof stored.schedule !== 'string' ||
    !Number.isFinite(lastRunAt) ||
    !Number.isInteger(stored.totalRunCount) ||
    stored.totalRunCount! < 0
  ) {
    return undefined;
  }
  return { task: stored.task, schedule: stored.schedule, lastRunAt, totalRunCount: stored.totalRunCount! };
}

/**
 * The beat's state file: a small JSON document rewritten whole, atomically (a temporary file in the same
 * folder, flushed, then renamed over the old one), so a crash mid-write leaves the previous state.
 */
export class StateFile {
  readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  /** @throws ConfigurationError when the file's folder does not exist or cannot be written. */
  async checkWritable(): Promise<void> {
    try {
      await access(dirname(this.path), constants.W_OK);
    } catch (error) {
      throw new ConfigurationError(
        `the beat schedule file ${this.path} cannot be written: its folder is missing or read-only`,
        { cause: error },
      );
    }
  }

  /**
   * The stored state, or undefined when there is none. A file that is not a state document is reported
   * through `onCorrupt` and ignored (it is replaced at the next write), as Celery recreates a bad shelve.
   */
  async read(onCorrupt: (why: string) => void): Promise<BeatState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      onCorrupt(`not JSON (${(error as Error).message})`);
      return undefined;
    }
    const { version, timezone, entries } = (document ?? {}) as Record<string, unknown>;
    if (
      version !== FORMAT_VERSION ||
      typeof timezone !== 'string' ||
      typeof entries !== 'object' ||
      !entries
    ) {
      onCorrupt(`not a version ${FORMAT_VERSION} beat state document`);
      return undefined;
    }
    const parsed: Record<string, EntryState> = {};
    for (const [name, value] of Object.entries(entries)) {
      const entry = parseEntry(value);
      if (entry) parsed[name] = entry;
      else onCorrupt(`entry '${name}' is damaged; it starts afresh`);
    }
    return { timezone, entries: parsed };
  }

  async write(state: BeatState): Promise<void> {
    const entries: Record<string, StoredEntry> = {};
    for (const [name, entry] of Object.entries(state.entries)) {
      entries[name] = {
        task: entry.task,
        schedule: entry.schedule,
        lastRunAt: new Date(entry.lastRunAt).toISOString(),
        totalRunCount: entry.totalRunCount,
      };
    }
    const text = `${JSON.stringify({ version: FORMAT_VERSION, timezone: state.timezone, entries }, null, 2)}\n`;
    const temporary = `${this.path}.${randomUUID().slice(0, 8)}.tmp`;
    try {
      const handle = await open(temporary, 'w', 0o644);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync(); // on disk before the rename makes it the state
      } finally {
        await handle.close();
      }
      await rename(temporary, this.path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }
}
