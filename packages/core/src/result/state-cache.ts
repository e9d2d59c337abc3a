import { READY_STATES, type StateMessage } from '../protocol/message';

/**
 * The newest state per task id, bounded (least recently updated first out): results can arrive before
 * anyone asks for them, and a long-running client must not keep every task it ever sent.
 */
export class StateCache {
  private readonly states = new Map<string, StateMessage>();

  constructor(private readonly capacity: number) {}

  /** The newest state kept for `taskId`. */
  get(taskId: string): StateMessage | undefined {
    return this.states.get(taskId);
  }

  /**
   * Records `state` unless the task already finished: a redelivered duplicate run may report STARTED after
   * the first run's SUCCESS, and must not make a finished task look unfinished. Returns whether it was kept.
   */
  set(state: StateMessage): boolean {
    const previous = this.states.get(state.taskId);
    if (previous && READY_STATES.has(previous.state) && !READY_STATES.has(state.state)) return false;
    this.states.delete(state.taskId);
    this.states.set(state.taskId, state);
    if (this.states.size > this.capacity) this.states.delete(this.states.keys().next().value!);
    return true;
  }

  /** Drops what is kept for `taskId` (after `forget()`). */
  delete(taskId: string): void {
    this.states.delete(taskId);
  }

  /** How many tasks have a state kept. */
  get size(): number {
    return this.states.size;
  }
}
