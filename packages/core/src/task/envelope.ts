import type { JsonValue, TaskEmbed, TaskEnvelope } from '../protocol/message';
import { EMPTY_EMBED, ORIGIN, reprOf } from '../protocol/task-codec';
import type { ApplyOptions } from './apply-options';
import type { CompiledTaskOptions } from './options';
import type { TaskRequest } from './request';

/** A task message about to be sent: its envelope, where it goes, and how long the broker holds it. */
export interface OutgoingTask {
  readonly envelope: TaskEnvelope;
  readonly queue: string;
  /** Milliseconds until it may run (countdown or ETA), 0 for now. */
  readonly delayMs: number;
}

/** Workflow fields of one message, set by canvas (callbacks, chains, groups, chords). */
export interface CanvasFields {
  readonly embed?: TaskEmbed;
  readonly groupId?: string | null;
  readonly groupIndex?: number | null;
  /** Instead of the ids of the run the call is made from. */
  readonly rootId?: string;
  readonly parentId?: string;
  /** Where states go, when the step was frozen by another process (a chain's caller). */
  readonly replyTo?: string;
}

/** What the envelope of one call is built from. */
export interface OutgoingSpec {
  readonly name: string;
  readonly id: string;
  readonly options: ApplyOptions;
  /** The task's own options when this App knows the task (unknown names are sent as they are). */
  readonly task: Pick<CompiledTaskOptions, 'ignoreResult' | 'priority' | 'queue'> | undefined;
  readonly defaultQueue: string;
  /** The run this call is made from, if any (its ids become the parent and root). */
  readonly parent: TaskRequest | undefined;
  readonly now: number;
  readonly canvas?: CanvasFields;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Builds the protocol-v2 envelope of one call (pure: the id and the time are given). */
export function buildOutgoingTask({
  name,
  id,
  options,
  task,
  defaultQueue,
  parent,
  now,
  canvas,
}: OutgoingSpec): OutgoingTask {
  const args = (options.args ?? []) as JsonValue[];
  const kwargs = (options.kwargs ?? {}) as Record<string, JsonValue>;
  const eta = options.eta
    ? options.eta.toISOString()
    : options.countdown
      ? iso(now + options.countdown * 1000)
      : null;
  const expires =
    typeof options.expires === 'number'
      ? iso(now + options.expires * 1000)
      : (options.expires?.toISOString() ?? null);
  const fromRun = parent && !parent.calledDirectly ? parent : undefined;
  const envelope: TaskEnvelope = {
    id,
    task: name,
    args,
    kwargs,
    embed: canvas?.embed ?? EMPTY_EMBED,
    retries: 0,
    eta,
    expires,
    timelimit: [null, null],
    rootId: canvas?.rootId ?? fromRun?.rootId ?? id,
    parentId: canvas?.parentId ?? fromRun?.id ?? null,
    group: canvas?.groupId ?? null,
    groupIndex: canvas?.groupIndex ?? null,
    shadow: null,
    argsrepr: reprOf(args),
    kwargsrepr: reprOf(kwargs),
    origin: ORIGIN,
    ignoreResult: task?.ignoreResult ?? false,
    lang: 'py',
    replyTo: canvas?.replyTo ?? '',
    correlationId: id,
    priority: options.priority ?? task?.priority ?? 0,
    extraHeaders: options.headers ?? {},
  };
  return {
    envelope,
    queue: options.queue ?? task?.queue ?? defaultQueue,
    delayMs: eta ? Math.max(0, Date.parse(eta) - now) : 0,
  };
}
