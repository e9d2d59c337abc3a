import type { Json, TaskDetail, TaskStep, TaskSummary } from '../wire';
import { stepOrder } from './precedence';

/** Longest text kept per field: a repr of a big argument can be megabytes, and 10,000 tasks are kept. */
export const TEXT_LIMITS = { args: 2048, result: 2048, exception: 1024, traceback: 8192, summaryArgs: 120 };
/** Steps kept per task (a task retried many times must not grow without end). */
const MAX_STEPS = 40;

/** Cuts `text` to `limit` characters, marking the cut. */
export function clip(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** Everything the dashboard knows about one task; mutated in place by the task store. */
export class TaskRecord {
  name: string | null = null;
  state = 'PENDING';
  worker: string | null = null;
  args: string | null = null;
  kwargs: string | null = null;
  result: string | null = null;
  exception: string | null = null;
  traceback: string | null = null;
  sent: number | null = null;
  received: number | null = null;
  started: number | null = null;
  finished: number | null = null;
  runtime: number | null = null;
  retries = 0;
  eta: string | null = null;
  expires: string | null = null;
  rootId: string | null = null;
  parentId: string | null = null;
  queue: string | null = null;
  terminated = false;
  progress: number | null = null;
  backendState: string | null = null;
  backendMeta: Json = null;
  readonly history: TaskStep[] = [];

  constructor(
    readonly id: string,
    /** When the dashboard first heard of it. */
    readonly seen: number,
  ) {}

  addStep(step: TaskStep): void {
    this.history.push(step);
    if (this.history.length > MAX_STEPS) this.history.splice(1, 1); // keep the first step: where it began
  }

  summary(): TaskSummary {
    return {
      id: this.id,
      name: this.name,
      state: this.state,
      worker: this.worker,
      args: this.args === null ? '' : clip(this.args, TEXT_LIMITS.summaryArgs),
      seen: this.seen,
      received: this.received ?? this.sent,
      started: this.started,
      finished: this.finished,
      // task-failed carries no runtime: the time between started and finished stands in.
      runtime:
        this.runtime ??
        (this.finished !== null && this.started !== null ? Math.max(0, this.finished - this.started) : null),
      retries: this.retries,
      progress: this.progress,
    };
  }

  detail(): TaskDetail {
    return {
      ...this.summary(),
      argsFull: this.args,
      kwargs: this.kwargs,
      result: this.result,
      exception: this.exception,
      traceback: this.traceback,
      sent: this.sent,
      eta: this.eta,
      expires: this.expires,
      rootId: this.rootId,
      parentId: this.parentId,
      queue: this.queue,
      terminated: this.terminated,
      // By time; events of one instant in their logical order (task-sent and task-received can arrive swapped).
      history: this.history
        .map((step) => ({ ...step }))
        .sort((a, b) => a.at - b.at || stepOrder(a.state) - stepOrder(b.state)),
      backendState: this.backendState,
      backendMeta: this.backendMeta,
    };
  }
}
