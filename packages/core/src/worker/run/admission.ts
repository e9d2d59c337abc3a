import { MessageDecodeError } from '../../errors';
import type { JsonLimits } from '../../protocol/json';
import type { TaskEnvelope, WireMessage } from '../../protocol/message';
import { decodeTaskMessage } from '../../protocol/task-codec';
import type { BaseTask } from '../../task/base-task';

/** What a worker may do with a message it received, decided before anything runs. */
export type Admission =
  /** Not a task message we can read: dead-letter it. */
  | { kind: 'undecodable'; reason: string; detail: string }
  /** A task this worker does not know: report the failure, dead-letter it. */
  | { kind: 'unknown-task'; envelope: TaskEnvelope }
  /** Revoked, or past its `expires`: report REVOKED, never run it. */
  | { kind: 'revoked'; envelope: TaskEnvelope; task: BaseTask; reason: 'revoked' | 'expired' }
  /** Its ETA is further than the worker holds messages: back to the broker's delay. */
  | { kind: 'defer'; envelope: TaskEnvelope; task: BaseTask; waitMs: number }
  /** Run it, after `holdMs` (a near ETA). */
  | { kind: 'run'; envelope: TaskEnvelope; task: BaseTask; holdMs: number };

/** What admission looks up in the worker's App. */
export interface AdmissionRules {
  readonly jsonLimits: JsonLimits;
  findTask(name: string): BaseTask | undefined;
  isRevoked(taskId: string): boolean;
}

/** Decodes a delivered message and decides what happens to it (pure but for the lookups; `now` is given). */
export function admit(
  message: WireMessage,
  rules: AdmissionRules,
  etaHoldMs: number,
  now: number,
): Admission {
  let envelope: TaskEnvelope;
  try {
    envelope = decodeTaskMessage(message, rules.jsonLimits);
  } catch (error) {
    const reason = error instanceof MessageDecodeError ? error.reason : 'invalid-body';
    return { kind: 'undecodable', reason, detail: (error as Error).message };
  }
  const task = rules.findTask(envelope.task);
  if (!task) return { kind: 'unknown-task', envelope };
  if (envelope.expires !== null && Date.parse(envelope.expires) <= now) {
    return { kind: 'revoked', envelope, task, reason: 'expired' };
  }
  if (rules.isRevoked(envelope.id)) return { kind: 'revoked', envelope, task, reason: 'revoked' };
  const waitMs = envelope.eta === null ? 0 : Date.parse(envelope.eta) - now;
  if (waitMs > etaHoldMs) return { kind: 'defer', envelope, task, waitMs };
  return { kind: 'run', envelope, task, holdMs: Math.max(0, waitMs) };
}
