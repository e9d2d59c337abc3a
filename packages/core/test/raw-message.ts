import type { App } from '@queue/core';
import { encodeTaskMessage, EMPTY_EMBED, type TaskEnvelope } from '@queue/core/transport';

/**
 * Publishes a task message as another client would (e.g. Python Celery), skipping the caller-side checks
 * that `delay`/`sendTask` make: what the worker alone must refuse.
 */
export async function sendRaw(app: App, task: string, args: unknown[]): Promise<string> {
  const id = `raw-${Math.random()}`;
  const envelope: TaskEnvelope = {
    id,
    task,
    args: args as never,
    kwargs: {},
    embed: EMPTY_EMBED,
    retries: 0,
    eta: null,
    expires: null,
    timelimit: [null, null],
    rootId: id,
    parentId: null,
    group: null,
    groupIndex: null,
    shadow: null,
    argsrepr: '',
    kwargsrepr: '',
    origin: 'test',
    ignoreResult: false,
    lang: 'py',
    replyTo: '',
    correlationId: id,
    priority: 0,
    extraHeaders: {},
  };
  await app.transport.publish(encodeTaskMessage(envelope), { queue: app.defaultQueue });
  return id;
}
