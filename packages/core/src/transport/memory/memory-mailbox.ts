import type { JsonValue } from '../../protocol/message';
import type { BroadcastOptions, ControlChannel, ControlCommand, ControlReply, QueueStats } from '../control';
import { isAddressedTo } from '../control-addressing';
import type { CeleryEvent, EventChannel } from '../events';

type ControlHandler = (command: ControlCommand) => Promise<JsonValue | undefined>;

/** Commands and replies cross as JSON, as on a broker: nothing shared by reference leaks through. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Remote control between the Apps of one process that share a `memory://name` broker (a caller and a worker
 * in a test): the same addressing, reply shapes and timeouts as Celery's pidbox, without a network.
 */
export class MemoryMailbox implements ControlChannel {
  private readonly nodes = new Map<string, ControlHandler>();

  constructor(private readonly statsOf: (queue: string) => QueueStats | undefined) {}

  async serve(hostname: string, handler: ControlHandler): Promise<() => Promise<void>> {
    this.nodes.set(hostname, handler);
    return async () => {
      if (this.nodes.get(hostname) === handler) this.nodes.delete(hostname);
    };
  }

  async broadcast(command: ControlCommand, options: BroadcastOptions): Promise<ControlReply[]> {
    const sent = copy(command);
    const replies: ControlReply[] = [];
    const answers = [...this.nodes]
      .filter(([hostname]) => isAddressedTo(sent, hostname))
      .map(async ([hostname, handler]) => {
        const reply = await handler(copy(sent)).catch((error: Error) => ({ error: error.message }));
        if (reply !== undefined && options.reply) replies.push({ hostname, reply: copy(reply) });
      });
    if (!options.reply) return [];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(answers),
      new Promise((resolve) => (timer = setTimeout(resolve, options.timeoutMs))),
    ]);
    clearTimeout(timer);
    return replies.slice(0, options.limit ?? replies.length);
  }

  async queueDepth(queue: string): Promise<number | undefined> {
    return this.statsOf(queue)?.messages;
  }

  async queueStats(queue: string): Promise<QueueStats | undefined> {
    return this.statsOf(queue);
  }
}

/** Celery events between the Apps of one process that share a `memory://name` broker. */
export class MemoryEventBus implements EventChannel {
  private readonly listeners = new Set<(event: CeleryEvent) => void>();

  async publish(event: CeleryEvent): Promise<void> {
    const sent = copy(event);
    for (const listener of this.listeners) queueMicrotask(() => listener(copy(sent)));
  }

  async listen(handler: (event: CeleryEvent) => void): Promise<() => Promise<void>> {
    const listener = (event: CeleryEvent): void => handler(event);
    this.listeners.add(listener);
    return async () => void this.listeners.delete(listener);
  }
}
