import { reviveSignature } from '../../canvas/revive';
import type { Canvas } from '../../canvas/canvas';
import { ChordError } from '../../errors';
import type { Logger } from '../../logging/logger';
import { States, type JsonValue, type TaskEnvelope } from '../../protocol/message';
import { serializeError } from '../../protocol/result-codec';
import type { ChordPart, ResultBackend } from '../../result/result-backend';
import type { TaskHost } from '../../task/task-host';

/** Whether a message carries anything for {@link Workflow} (most do not: one check on the hot path). */
export function hasWorkflow({ embed }: TaskEnvelope): boolean {
  return embed.callbacks !== null || embed.errbacks !== null || embed.chain !== null || embed.chord !== null;
}

/**
 * What a task message's workflow fields ask for once its run ends, as a Celery worker does it: on success
 * the callbacks and the chain's next step are sent (before SUCCESS is stored); on failure the rest of the
 * chain is marked FAILURE and the errbacks are sent; a chord header task reports its part, and the one that
 * completes the header sends the body (or fails it with ChordError).
 */
export class Workflow {
  constructor(
    private readonly host: TaskHost,
    private readonly backend: ResultBackend,
    private readonly logger: Logger,
  ) {}

  /** Before SUCCESS is stored. @throws when a step cannot be sent (the run then fails with that error). */
  async succeeded(envelope: TaskEnvelope, value: JsonValue): Promise<void> {
    const { callbacks, chain } = envelope.embed;
    for (const [index, callback] of (callbacks ?? []).entries()) {
      await reviveSignature(callback, `callbacks[${index}]`).applyWith(this.host, [value], {});
    }
    if (chain && chain.length > 0) {
      const next = reviveSignature(chain[chain.length - 1]!, 'chain');
      await next.applyWith(this.host, [value], { chain: chain.slice(0, -1) });
    }
  }

  /** After FAILURE is stored: the chain's later steps fail the same way, errbacks are sent with the task id. */
  async failed(envelope: TaskEnvelope, error: Error): Promise<void> {
    await this.quietly(envelope, 'mark the rest of its chain failed', async () => {
      for (const [index, step] of (envelope.embed.chain ?? []).entries()) {
        await this.failStep(reviveSignature(step, `chain[${index}]`), serializeError(error), null);
      }
    });
    await this.sendErrbacks(envelope.embed.errbacks, envelope.id, envelope);
  }

  /** After a ready state is stored: a chord header task reports its part; the last one sends the body. */
  async partEnded(envelope: TaskEnvelope, state: string, result: JsonValue): Promise<void> {
    const { chord } = envelope.embed;
    if (chord === null || envelope.group === null) return;
    const groupId = envelope.group;
    await this.quietly(envelope, 'complete its chord', async () => {
      const store = this.host.chords;
      if (!store)
        throw new ChordError(`the ${this.host.resultBackendName} result backend cannot join chords`);
      const part: ChordPart = {
        groupId,
        taskId: envelope.id,
        groupIndex: envelope.groupIndex,
        state,
        result,
      };
      const parts = await store.partReturned(part);
      if (!parts) return;
      const body = reviveSignature(chord, 'chord');
      const failed = parts.find((each) => each.state !== States.SUCCESS);
      if (!failed) {
        await body.applyWith(this.host, [parts.map((each) => each.result)], {});
        return;
      }
      const chordError = new ChordError(`Dependency ${failed.taskId} raised ${pythonRepr(failed.result)}`);
      const bodyId = await this.failStep(body, serializeError(chordError), null);
      await this.sendErrbacks(body.options.link_error, bodyId, envelope);
    });
  }

  /** Stores FAILURE for a step that will never be sent; returns its task id. */
  private async failStep(step: Canvas, error: JsonValue, traceback: string | null): Promise<string> {
    const taskId = step.freeze('');
    const replyTo = typeof step.options.reply_to === 'string' ? step.options.reply_to : '';
    await this.backend.report(
      { taskId, replyTo, correlationId: taskId },
      { taskId, state: States.FAILURE, result: error, traceback, children: null },
    );
    return taskId;
  }

  /** Errbacks get the failed task's id first (Celery's old-style errbacks, what a Python worker sends). */
  private async sendErrbacks(
    errbacks: JsonValue | undefined,
    failedId: string,
    envelope: TaskEnvelope,
  ): Promise<void> {
    const list =
      errbacks === undefined || errbacks === null ? [] : Array.isArray(errbacks) ? errbacks : [errbacks];
    await this.quietly(envelope, 'send its errbacks', async () => {
      for (const [index, errback] of list.entries()) {
        await reviveSignature(errback, `errbacks[${index}]`).applyWith(this.host, [failedId], {});
      }
    });
  }

  /** The task's own state is stored already: a workflow step that cannot be done is logged, not thrown. */
  private async quietly(envelope: TaskEnvelope, what: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.logger.error(`${envelope.task}[${envelope.id}]: could not ${what}: ${(error as Error).message}`, {
        error,
      });
    }
  }
}

/** `ValueError('x', 42)`: how Celery names a failed chord dependency's error. */
function pythonRepr(result: JsonValue): string {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return JSON.stringify(result);
  const type = typeof result.exc_type === 'string' ? result.exc_type : 'Exception';
  const message = Array.isArray(result.exc_message) ? result.exc_message : [result.exc_message ?? null];
  const quote = (part: JsonValue) =>
    typeof part === 'string' ? `'${part.replace(/'/g, "\\'")}'` : JSON.stringify(part);
  return `${type}(${message.map(quote).join(', ')})`;
}
