import type { RoleParams } from '../protocol';

/** The benchmark's one task: `add(i, 1)`, whose result is `i + 1` (checked by every round trip). */
export const TASK_NAME = 'bench.add';

/** A client of one system: connects, then sends tasks (and awaits their results). */
export interface ClientAdapter {
  /** Connects (and declares what sending needs), so that the timed part starts on a ready client. */
  connect(): Promise<void>;
  /** Sends `add(i, 1)`; resolves once the broker (or Redis) has it: a publisher confirm for RabbitMQ. */
  send(i: number): Promise<void>;
  /** Sends `add(i, 1)` and resolves to its result. */
  call(i: number): Promise<number>;
  /** Queues this client left on the broker that the harness must delete (Celery's reply queues). */
  replyQueues(): string[];
  close(): Promise<void>;
}

/** What a worker tells the role process about each run of the task. */
export interface RunHooks {
  /** A run started (the body is about to run). */
  started(): void;
  /** A run is over, the way the system counts it: result recorded and the message acked. */
  finished(): void;
  /** A run failed, or the worker did: the step fails with this message. */
  failed(message: string): void;
}

export interface WorkerAdapter {
  /** Starts consuming; resolves once it consumes. */
  start(hooks: RunHooks): Promise<void>;
  /** Warm stop: lets running tasks end, closes every connection. */
  stop(): Promise<void>;
}

/** One system, as the role processes see it. */
export interface SystemAdapter {
  /** `roundTrips`: the client will `call` (BullMQ then listens to its queue events). */
  client(params: RoleParams, options: { roundTrips: boolean }): ClientAdapter;
  worker(params: RoleParams): WorkerAdapter;
}

/** Throws once `deadline` (epoch ms) has passed. */
export function checkDeadline(deadline: number, what: string): void {
  if (Date.now() > deadline) throw new Error(`time limit reached while ${what}`);
}

/** The result of `add(i, 1)` checked, so a benchmark never counts wrong answers. */
export function checkSum(i: number, value: unknown): number {
  if (value !== i + 1) throw new Error(`add(${i}, 1) returned ${JSON.stringify(value)}`);
  return value;
}
