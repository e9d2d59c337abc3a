import type { CeleryEvent, JsonValue } from '@queue/core';
import type { WorkerView } from '../wire';

/** Workers kept; beyond it, the offline worker seen longest ago goes. */
const MAX_WORKERS = 500;
/** Celery's `HEARTBEAT_EXPIRE_WINDOW`: alive while the last heartbeat is younger than twice its interval. */
const EXPIRE_WINDOW = 2;
const DEFAULT_FREQ = 2;

type JsonObject = Record<string, JsonValue>;

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: JsonValue | undefined): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return null;
}

function str(value: JsonValue | undefined): string | null {
  return typeof value === 'string' ? value.slice(0, 200) : null;
}

/**
 * `celery.concurrency.solo:TaskPool` → `solo`; ours say `async` or `threads`. Celery's prefork pool names
 * no implementation, but is the one that reports pipe `writes`.
 */
function poolKind(pool: JsonObject): string | null {
  const implementation = str(pool.implementation);
  if (!implementation) return pool.writes !== undefined ? 'prefork' : null;
  const module = /concurrency\.(\w+)/.exec(implementation);
  return module ? module[1]! : implementation;
}

/** Slots: `max-concurrency`, or more when a prefork pool grew (`pool_grow` adds processes, not to the limit). */
function concurrencyOf(pool: JsonObject): number | null {
  const limit = num(pool['max-concurrency']);
  const processes = Array.isArray(pool.processes) ? pool.processes.length : 0;
  if (limit === null) return processes > 0 ? processes : null;
  return pool.writes !== undefined ? Math.max(limit, processes) : limit;
}

/** One worker as heartbeats and inspect replies describe it. */
class WorkerRecord {
  swIdent: string | null = null;
  swVer: string | null = null;
  swSys: string | null = null;
  pid: number | null = null;
  freq: number | null = null;
  lastHeartbeat: number | null = null;
  lastReply: number | null = null;
  /** A worker-offline arrived (until it comes back). */
  offline = false;
  /** When that worker-offline arrived. */
  offlineAt = 0;
  active: number | null = null;
  processed: number | null = null;
  loadavg: number[] | null = null;
  pool: string | null = null;
  concurrency: number | null = null;
  prefetch: number | null = null;
  uptime: number | null = null;
  totals: Record<string, number> = {};
  registered: string[] = [];
  queues: string[] = [];

  constructor(readonly hostname: string) {}

  lastSeen(): number {
    return Math.max(this.lastHeartbeat ?? 0, this.lastReply ?? 0);
  }

  online(now: number, replyWindow: number): boolean {
    if (this.offline) return false;
    const beat =
      this.lastHeartbeat !== null && now < this.lastHeartbeat + (this.freq ?? DEFAULT_FREQ) * EXPIRE_WINDOW;
    const answered = this.lastReply !== null && now < this.lastReply + replyWindow;
    return beat || answered;
  }

  view(now: number, replyWindow: number): WorkerView {
    return {
      hostname: this.hostname,
      online: this.online(now, replyWindow),
      swIdent: this.swIdent,
      swVer: this.swVer,
      swSys: this.swSys,
      pid: this.pid,
      freq: this.freq,
      lastHeartbeat: this.lastHeartbeat,
      lastReply: this.lastReply,
      active: this.active,
      processed: this.processed,
      loadavg: this.loadavg,
      pool: this.pool,
      concurrency: this.concurrency,
      prefetch: this.prefetch,
      uptime: this.uptime,
      totals: { ...this.totals },
      registered: [...this.registered],
      queues: [...this.queues],
    };
  }
}

/**
 * The fleet: `worker-*` events (Celery's heartbeat rules) merged with what the workers answer to
 * `inspect`. A worker counts as online while its heartbeats are fresh, or, for workers that send none
 * (`--without-heartbeat`), while it answered the last inspection round.
 */
export class WorkerStore {
  private readonly workers = new Map<string, WorkerRecord>();

  /** `replyWindowSeconds`: how long an inspect answer keeps a worker online (a bit over two rounds). */
  constructor(private readonly replyWindowSeconds: number) {}

  has(hostname: string): boolean {
    return this.workers.has(hostname);
  }

  views(now: number): WorkerView[] {
    return [...this.workers.values()]
      .sort((a, b) => a.hostname.localeCompare(b.hostname))
      .map((worker) => worker.view(now, this.replyWindowSeconds));
  }

  /** Hostnames online now. */
  onlineHostnames(now: number): string[] {
    return [...this.workers.values()]
      .filter((worker) => worker.online(now, this.replyWindowSeconds))
      .map((worker) => worker.hostname);
  }

  /** A fingerprint of who is online, to notice when that changes with time alone. */
  onlineKey(now: number): string {
    return this.onlineHostnames(now).join('\n');
  }

  /** Applies a `worker-online`, `worker-heartbeat` or `worker-offline` event received at `now`. */
  applyEvent(event: CeleryEvent, now: number): boolean {
    if (typeof event.hostname !== 'string' || event.hostname === '') return false;
    if (
      event.type !== 'worker-online' &&
      event.type !== 'worker-heartbeat' &&
      event.type !== 'worker-offline'
    )
      return false;
    const worker = this.get(event.hostname);
    worker.swIdent = str(event.sw_ident) ?? worker.swIdent;
    worker.swVer = str(event.sw_ver) ?? worker.swVer;
    worker.swSys = str(event.sw_sys) ?? worker.swSys;
    worker.pid = num(event.pid) ?? worker.pid;
    worker.freq = num(event.freq) ?? worker.freq;
    worker.active = num(event.active) ?? worker.active;
    worker.processed = num(event.processed) ?? worker.processed;
    if (Array.isArray(event.loadavg))
      worker.loadavg = event.loadavg.map((load) => num(load) ?? 0).slice(0, 3);
    if (event.type === 'worker-offline') {
      worker.offline = true;
      worker.offlineAt = now;
      worker.lastHeartbeat = null;
      worker.lastReply = null;
    } else {
      worker.offline = false;
      worker.lastHeartbeat = now;
    }
    return true;
  }

  /** Applies a `stats` reply to a question asked at `asked`. */
  applyStats(hostname: string, stats: JsonValue, asked: number): void {
    if (!isObject(stats)) return;
    const worker = this.replied(hostname, asked);
    worker.pid = num(stats.pid) ?? worker.pid;
    worker.uptime = num(stats.uptime) ?? worker.uptime;
    worker.prefetch = num(stats.prefetch_count) ?? worker.prefetch;
    worker.swIdent = str(stats.sw_ident) ?? worker.swIdent;
    worker.swVer = str(stats.sw_ver) ?? worker.swVer;
    if (isObject(stats.pool)) {
      worker.pool = poolKind(stats.pool) ?? worker.pool;
      worker.concurrency = concurrencyOf(stats.pool) ?? worker.concurrency;
    }
    if (isObject(stats.total)) {
      const totals: Record<string, number> = {};
      for (const [name, count] of Object.entries(stats.total).slice(0, 500)) {
        const value = num(count);
        if (value !== null) totals[name.slice(0, 200)] = value;
      }
      worker.totals = totals;
    }
  }

  /** Applies a `registered` reply (a list of `name [attrs]` strings). */
  applyRegistered(hostname: string, names: JsonValue, asked: number): void {
    if (!Array.isArray(names)) return;
    this.replied(hostname, asked).registered = names
      .filter((name): name is string => typeof name === 'string')
      .slice(0, 1000)
      .map((name) => name.slice(0, 300));
  }

  /** Applies an `active_queues` reply (kombu's queue dicts). */
  applyActiveQueues(hostname: string, queues: JsonValue, asked: number): void {
    if (!Array.isArray(queues)) return;
    this.replied(hostname, asked).queues = queues
      .map((queue) => (isObject(queue) ? str(queue.name) : null))
      .filter((name): name is string => name !== null)
      .slice(0, 200);
  }

  /** Any other answer (`ping`, `active`): it is alive. */
  applyReply(hostname: string, asked: number): void {
    this.replied(hostname, asked);
  }

  /** Queue name → online workers consuming it. */
  consumersByQueue(now: number): Map<string, number> {
    const counts = new Map<string, number>();
    for (const worker of this.workers.values()) {
      if (!worker.online(now, this.replyWindowSeconds)) continue;
      for (const queue of worker.queues) counts.set(queue, (counts.get(queue) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Marks an answer to a question asked at `asked`: a reply sent before a worker-offline that was
   * collected after it does not bring the worker back.
   */
  private replied(hostname: string, asked: number): WorkerRecord {
    const worker = this.get(hostname);
    if (worker.offline && worker.offlineAt >= asked) return worker;
    worker.lastReply = asked;
    worker.offline = false;
    return worker;
  }

  private get(name: string): WorkerRecord {
    const hostname = name.slice(0, 300);
    let worker = this.workers.get(hostname);
    if (!worker) {
      worker = new WorkerRecord(hostname);
      this.workers.set(hostname, worker);
      if (this.workers.size > MAX_WORKERS) this.evictOne();
    }
    return worker;
  }

  private evictOne(): void {
    let victim: WorkerRecord | undefined;
    for (const worker of this.workers.values()) {
      if (!victim || worker.lastSeen() < victim.lastSeen()) victim = worker;
    }
    if (victim) this.workers.delete(victim.hostname);
  }
}
