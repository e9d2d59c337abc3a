import { READY_STATES, type AsyncResult, type StateChange } from '@queue/core';

/** How following a task ended: its ready state, or the time limit. */
export type FollowOutcome =
  { readonly timedOut: false; readonly last: StateChange } | { readonly timedOut: true };

/**
 * Follows a task's states (AsyncResult's iterator) until a ready one, calling `onChange` for each; gives up
 * after `timeoutMs`. On a timeout the iterator is left waiting: the command ends the process right after.
 */
export async function followStates(
  result: AsyncResult,
  timeoutMs: number,
  onChange: (change: StateChange) => void,
): Promise<FollowOutcome> {
  const states = result[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
  );
  try {
    for (;;) {
      const next = await Promise.race([states.next(), timeUp]);
      // The iterator ends only right after yielding a ready state, which returns below first.
      if (next === 'timeout' || next.done) return { timedOut: true };
      onChange(next.value);
      if (READY_STATES.has(next.value.state)) return { timedOut: false, last: next.value };
    }
  } finally {
    clearTimeout(timer);
  }
}
