/**
 * Celery's task-state precedence (`celery/states.py`), as its event receiver uses it
 * (`celery/events/state.py`, `Task.event`): events can arrive out of order (a batched `task.multi` from
 * one worker, task-sent from a client), so a state that logically comes earlier must not replace a later
 * one. Unknown (custom) states rank where Celery puts `None`.
 */
const PRECEDENCE = [
  'SUCCESS',
  'FAILURE',
  null,
  'REVOKED',
  'STARTED',
  'RECEIVED',
  'REJECTED',
  'RETRY',
  'PENDING',
];
const UNKNOWN = PRECEDENCE.indexOf(null);

function rank(state: string): number {
  const index = PRECEDENCE.indexOf(state);
  return index === -1 ? UNKNOWN : index;
}

/** A state's place in a task's life, earliest first (for ordering events of the same instant). */
export function stepOrder(state: string): number {
  return -rank(state);
}

/** Whether an event of state `next` should replace `current` (RETRY always does, both ways, as in Celery). */
export function replacesState(current: string, next: string): boolean {
  if (next === 'RETRY' || current === 'RETRY') return true;
  // A higher rank number happens earlier: it only fills in fields.
  return rank(next) <= rank(current);
}

/** Celery's event type → state (`TASK_EVENT_TO_STATE`); other types become their upper-cased name. */
export function stateOfEvent(type: string): string {
  const kind = type.slice('task-'.length);
  const known: Record<string, string> = {
    sent: 'PENDING',
    received: 'RECEIVED',
    started: 'STARTED',
    succeeded: 'SUCCESS',
    failed: 'FAILURE',
    retried: 'RETRY',
    revoked: 'REVOKED',
    rejected: 'REJECTED',
  };
  return known[kind] ?? kind.toUpperCase();
}

/** States after which nothing more happens to a task. */
export const FINISHED_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED']);
