import type { Control, ControlReplies, JsonValue, Logger, TaskInfo } from '@queue/core';

/** What one inspection round found, by method. */
export interface InspectionRound {
  /** Epoch seconds when the questions went out. */
  asked: number;
  stats: ControlReplies;
  activeQueues: ControlReplies;
  registered: ControlReplies;
  active: ControlReplies;
}

function isTaskInfo(value: JsonValue): value is TaskInfo {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.id === 'string';
}

/** The running tasks of an `active` reply (an error reply has none). */
export function activeTasks(reply: JsonValue): TaskInfo[] {
  return Array.isArray(reply) ? reply.filter(isTaskInfo) : [];
}

/**
 * Asks the fleet what heartbeats do not tell (Celery's `inspect stats / active_queues / registered / active`,
 * as Flower does), all four at once so a round takes one reply timeout. Rounds never overlap: a slow broker
 * makes them rarer, not piled up. A failed round is logged and the next one tries again.
 */
export class Inspector {
  private running: Promise<InspectionRound | undefined> | undefined;

  constructor(
    private readonly control: Control,
    private readonly options: { timeoutMs: number; enableEvents: boolean },
    private readonly logger: Logger,
  ) {}

  /** One round (or the one in progress). */
  round(): Promise<InspectionRound | undefined> {
    this.running ??= this.ask().finally(() => (this.running = undefined));
    return this.running;
  }

  private async ask(): Promise<InspectionRound | undefined> {
    const asked = Date.now() / 1000;
    const options = { reply: true, timeout: this.options.timeoutMs / 1000 };
    try {
      if (this.options.enableEvents) await this.control.enableEvents();
      const [stats, activeQueues, registered, active] = await Promise.all([
        this.control.broadcast('stats', {}, options),
        this.control.broadcast('active_queues', {}, options),
        this.control.broadcast('registered', {}, options),
        this.control.broadcast('active', { safe: true }, options),
      ]);
      return { asked, stats, activeQueues, registered, active };
    } catch (error) {
      this.logger.warn(`dashboard: inspecting the workers failed: ${(error as Error).message}`);
      return undefined;
    }
  }
}
