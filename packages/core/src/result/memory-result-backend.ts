import { decodeStateMessage, encodeStateMessage } from '../protocol/result-codec';
import type { StateMessage, WireMessage } from '../protocol/message';
import type { ReplyTarget, ResultBackend } from './result-backend';
import { StateListeners } from './state-listeners';

/**
 * Keeps the newest state of every task in this process, encoded exactly as the rpc backend sends it.
 * Unlike `rpc://`, any App sharing the store can read any task's state.
 */
export class MemoryResultBackend implements ResultBackend {
  private readonly stored = new Map<string, WireMessage>();
  private readonly listeners = new StateListeners();

  async report(_target: ReplyTarget, state: StateMessage): Promise<void> {
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

  /** How many tasks have a stored state (for tests: `ignoreResult` tasks add none). */
  get size(): number {
    return this.stored.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
