import type { JsonValue } from '../protocol/message';

/** A remote-control command broadcast to running workers (`queue inspect`, `queue status`). */
export interface ControlCommand {
  /** `ping`, `registered`, `active`, `reserved`, `stats`, `query_task`. */
  method: string;
  arguments: Record<string, JsonValue>;
  /** Worker hostnames that should answer; empty: all. */
  destination: string[];
}

/** One worker's answer. */
export interface ControlReply {
  hostname: string;
  /** The answer, or an error text when the worker could not answer. */
  ok?: JsonValue;
  error?: string;
}

/**
 * An optional transport capability: a broadcast channel to the running workers (over RabbitMQ: a fanout
 * exchange and one private queue per worker). Transports without it (`memory://`) have no remote control.
 */
export interface ControlChannel {
  /** Worker side: answers commands until the returned function is called. */
  serve(
    hostname: string,
    handler: (command: ControlCommand) => Promise<JsonValue>,
  ): Promise<() => Promise<void>>;
  /** Client side: broadcasts `command` and collects the replies that arrive within `timeoutMs`. */
  broadcast(command: ControlCommand, timeoutMs: number): Promise<ControlReply[]>;
  /** Messages ready in `queue`, or undefined when the queue does not exist. */
  queueDepth(queue: string): Promise<number | undefined>;
}
