import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  parseEventLine,
  type ChildCommand,
  type ChildEvent,
  type ChildEventName,
  type EventOf,
} from './protocol';

/** How to start one worker or client process. */
export interface ChildSpec {
  /** Names it in messages, e.g. `celery worker`. */
  label: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** A wait that reached the step's time limit (shown as "timeout" rather than "failed"). */
export class StepTimeout extends Error {
  override name = 'StepTimeout';
}

const TAIL_LINES = 20;
const STOP_GRACE_MS = 10_000;
const KILL_WAIT_MS = 5_000;
/** A bound on the events one wait looks at (far more than any step sends). */
const MAX_WAIT_ROUNDS = 10_000_000;

/** Every child still running, so that a harness that ends for any reason leaves none behind. */
const live = new Set<Child>();

/** SIGKILLs every child still running, with its process group (a Celery worker's pool processes). */
export function killAllChildren(): void {
  for (const child of live) child.killNow();
}

/**
 * A worker or client process started by the harness, in a process group of its own (so that a Celery
 * worker's pool processes go with it). Its events (protocol.ts) are kept in order until waited for; its
 * other output is kept as a short tail for error messages.
 */
export class Child {
  private readonly proc: ChildProcess;
  private readonly events: ChildEvent[] = [];
  private readonly tail: string[] = [];
  private listeners: Array<() => void> = [];
  private stopping = false;
  private failure: string | undefined;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(readonly spec: ChildSpec) {
    this.proc = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(this);
    this.proc.stdin?.on('error', () => undefined); // EPIPE once it has exited
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const event = parseEventLine(line);
      if (!event) return this.keep(line);
      if (event.event === 'error') this.fail(event.message);
      else this.events.push(event);
      this.changed();
    });
    createInterface({ input: this.proc.stderr! }).on('line', (line) => this.keep(line));
    this.proc.on('error', (error) => {
      this.fail(`could not run ${spec.command}: ${error.message}`);
      this.exit ??= { code: null, signal: null };
      live.delete(this);
      this.changed();
    });
    this.proc.on('exit', (code, signal) => {
      this.exit = { code, signal };
      live.delete(this);
      if (!this.stopping && !this.failure)
        this.fail(`exited (${signal ? `signal ${signal}` : `code ${code}`}) unexpectedly`);
      this.changed();
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Why it failed (an `error` event, or an exit nobody asked for), with the end of its output. */
  get failed(): string | undefined {
    return this.failure && `${this.spec.label}: ${this.failure}${this.tailText()}`;
  }

  private keep(line: string): void {
    if (line.trim() === '') return;
    this.tail.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }

  private fail(message: string): void {
    this.failure ??= message;
  }

  private tailText(): string {
    const lines = this.tail.slice(-6);
    return lines.length ? ` — its last output: ${lines.join(' ⏎ ')}` : '';
  }

  private changed(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }

  /** Resolves on the child's next event, exit or failure, or at `deadline`. */
  private nextChange(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.listeners.push(done);
    });
  }

  /**
   * The first event named `name` not yet taken (it may have come already). Rejects when the child failed,
   * when `watch` (the step's other processes) failed, or with a StepTimeout at `deadline` (epoch ms).
   */
  async next<K extends ChildEventName>(
    name: K,
    deadline: number,
    watch: readonly Child[] = [],
  ): Promise<EventOf<K>> {
    // Bounded by the deadline: each round waits for a change of this child, or 1 s at most when `watch` is
    // given (to look at the others), or until the deadline.
    for (let round = 0; round < MAX_WAIT_ROUNDS; round++) {
      const index = this.events.findIndex((event) => event.event === name);
      if (index >= 0) return this.events.splice(index, 1)[0] as EventOf<K>;
      const failed = this.failed ?? watch.map((child) => child.failed).find(Boolean);
      if (failed) throw new Error(failed);
      if (this.exit) throw new Error(`${this.spec.label} exited before '${name}'${this.tailText()}`);
      if (Date.now() >= deadline)
        throw new StepTimeout(`${this.spec.label}: no '${name}' before the step's time limit`);
      await this.nextChange(watch.length ? Math.min(deadline, Date.now() + 1_000) : deadline);
    }
    throw new Error(`${this.spec.label}: gave up waiting for '${name}' after ${MAX_WAIT_ROUNDS} events`);
  }

  send(command: ChildCommand): void {
    if (this.alive && this.proc.stdin?.writable) this.proc.stdin.write(`${JSON.stringify(command)}\n`);
  }

  private async exited(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.alive && Date.now() < deadline) await this.nextChange(deadline);
    return !this.alive;
  }

  /**
   * Asks it to stop (`stop`, then the end of stdin) and waits up to `graceMs`; then SIGTERM, then SIGKILL,
   * to its whole process group. Returns whether it exited by itself.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<boolean> {
    this.stopping = true;
    if (!this.alive) return true;
    this.send({ cmd: 'stop' });
    this.proc.stdin?.end();
    if (await this.exited(graceMs)) return true;
    this.signalGroup('SIGTERM');
    if (!(await this.exited(2_000))) await this.kill();
    return false;
  }

  /** SIGKILL to its process group, and waits (a little) for the exit. */
  async kill(): Promise<void> {
    this.killNow();
    await this.exited(KILL_WAIT_MS);
  }

  killNow(): void {
    this.stopping = true;
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.proc.pid;
    if (!this.alive || pid === undefined) return;
    try {
      process.kill(-pid, signal); // the group this child leads (detached), and only it
    } catch {
      this.proc.kill(signal);
    }
  }
}
