import { readdirSync, readFileSync } from 'node:fs';

/** Memory of a process and its descendants, read from /proc (Linux). */
export interface TreeMemory {
  /** Sum of VmRSS over the tree, in bytes (pages shared between forked processes count in each). */
  rss: number;
  /** Processes in the tree. */
  processes: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process ended between listing and reading
  }
}

/** The parent pid from /proc/<pid>/stat (the command name may hold spaces and parentheses). */
function parentOf(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** A `VmRSS:`/`VmHWM:` line of /proc/<pid>/status, in bytes. */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readText(`/proc/${pid}/status`) ?? '');
  return match ? Number(match[1]) * 1024 : undefined;
}

/** `root` and every descendant of it alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const siblings = children.get(ppid);
    if (siblings) siblings.push(pid);
    else children.set(ppid, [pid]);
  }
  const tree: number[] = [];
  const pending = [root];
  while (pending.length > 0 && tree.length < 10_000) {
    const pid = pending.pop()!;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * RSS of `root` and its descendants now (`tree`: the pids, when the caller already knows them); undefined
 * once `root` is gone (or off Linux).
 */
export function treeMemory(
  root: number,
  tree: readonly number[] = processTree(root),
): TreeMemory | undefined {
  if (statusBytes(root, 'VmRSS') === undefined) return undefined;
  let rss = 0;
  let processes = 0;
  for (const pid of tree) {
    const bytes = statusBytes(pid, 'VmRSS');
    if (bytes === undefined) continue;
    rss += bytes;
    processes++;
  }
  return { rss, processes };
}

const TREE_EVERY = 5;

/**
 * Samples the RSS of a process tree every `intervalMs` until `stop()`, which returns the peak: the largest
 * sampled sum, or the root's own high-water mark (VmHWM, exact) when that is larger (a short run between
 * two samples).
 */
export class PeakRssSampler {
  private peak: TreeMemory | undefined;
  private readonly timer: NodeJS.Timeout;
  private tree: number[] = [];
  private samples = 0;

  constructor(
    private readonly root: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    // Listing every process costs more than reading a few: the tree is looked up again every 5th sample.
    if (this.samples++ % TREE_EVERY === 0) this.tree = processTree(this.root);
    const now = treeMemory(this.root, this.tree);
    if (now && (!this.peak || now.rss > this.peak.rss)) this.peak = now;
  }

  /** Stops sampling; the peak in bytes (undefined if the process could never be read). */
  stop(): TreeMemory | undefined {
    this.samples = 0; // a last look at the whole tree
    this.sample();
    clearInterval(this.timer);
    const hwm = statusBytes(this.root, 'VmHWM');
    if (hwm !== undefined && (!this.peak || hwm > this.peak.rss))
      this.peak = { rss: hwm, processes: this.peak?.processes ?? 1 };
    return this.peak;
  }
}
