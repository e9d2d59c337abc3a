import { READY_STATES, type StateMessage, type WireMessage } from '../protocol/message';
import { decodeStateMessage, encodeStateMessage } from '../protocol/result-codec';
import { MemoryChordStore } from './memory-chord-store';
import type { ReplyTarget, ResultBackend } from './result-backend';
import { StateListeners } from './state-listeners';

/**
 * Keeps the newest state of every task in this process, encoded exactly as the rpc backend sends it.
 * Unlike `rpc://`, any App sharing the store can read any task's state.
 */
export class MemoryResultBackend implements ResultBackend {
  private readonly stored = new Map<string, WireMessage>();
  private readonly listeners = new StateListeners();
  readonly chords = new MemoryChordStore();

  async report(_target: ReplyTarget, state: StateMessage): Promise<void> {
    const previous = this.latest(state.taskId);
    if (previous && READY_STATES.has(previous.state) && !READY_STATES.has(state.state)) return;
    const message = encodeStateMessage(state);
    this.stored.set(state.taskId, message);
    const decoded = decodeStateMessage(message)!;
    this.listeners.notify(decoded);
  }

  async replyTo(): Promise<string> {
    return '';
  }

  subscribe(taskId: string, listener: (state: StateMessage) => void): () => void {
    return this.listeners.add(taskId, listener);
  }

  latest(taskId: string): StateMessage | undefined {
    const message = this.stored.get(taskId);
    return message && decodeStateMessage(message);
  }

  async fetch(taskId: string): Promise<StateMessage | undefined> {
    return this.latest(taskId);
  }

  async forget(taskId: string): Promise<void> {
    this.stored.delete(taskId);
  }

  /** How many tasks have a stored state (for tests: `ignoreResult` tasks add none). */
  get size(): number {
    return this.stored.size;
  }

  /** Removes every listener; the stored states are kept. */
  async close(): Promise<void> {
    this.listeners.clear();
  }
}
