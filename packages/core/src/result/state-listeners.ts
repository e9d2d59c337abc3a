import type { StateMessage } from '../protocol/message';

/** Listeners of task states by task id: the caller side every result backend needs. */
export class StateListeners {
  private readonly byTask = new Map<string, Set<(state: StateMessage) => void>>();

  /** Returns the unsubscribe function. */
  add(taskId: string, listener: (state: StateMessage) => void): () => void {
    let set = this.byTask.get(taskId);
    if (!set) this.byTask.set(taskId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byTask.delete(taskId);
    };
  }

  /** Calls every listener of `state.taskId` with it. */
  notify(state: StateMessage): void {
    for (const listener of this.byTask.get(state.taskId) ?? []) listener(state);
  }

  /** Removes every listener (when the backend closes). */
  clear(): void {
    this.byTask.clear();
  }
}
