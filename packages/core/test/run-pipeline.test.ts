import { Ignore, MaxRetriesExceededError, Retry, TaskValidationError, TimeLimitExceeded } from '@queue/core';
import { encodeTaskMessage, EMPTY_EMBED, type TaskEnvelope, type WireMessage } from '@queue/core/transport';
import { buildOutgoingTask } from '../src/task/envelope';
import { decideRetry, type RetryPolicy } from '../src/task/retry-policy';
import { setErrorClassChain } from '../src/errors';
import { admit, type AdmissionRules } from '../src/worker/run/admission';
import type { BaseTask } from '../src/task/base-task';

/** The pure steps of a run, without a worker: admission, the retry decision, the outgoing envelope. */

class DbDown extends Error {
  override name = 'DbDown';
}
class DbTimeout extends DbDown {
  override name = 'DbTimeout';
}

const policy: RetryPolicy = {
  maxRetries: 3,
  autoretryFor: [DbDown],
  dontAutoretryFor: [DbTimeout],
  retryBackoff: 2,
  retryBackoffMax: 60,
  retryJitter: false,
  defaultRetryDelay: 180,
};
const NOW = Date.parse('2026-11-30T10:00:00Z');

describe('decideRetry', () => {
  test('an explicit Retry is honoured as thrown, with its time and cause', () => {
    const cause = new Error('flaky');
    expect(decideRetry(new Retry('again', cause, NOW + 5000), policy, 99, NOW)).toEqual({
      retry: true,
      when: NOW + 5000,
      exc: cause,
    });
  });

  test('autoretryFor matches subclasses, with exponential backoff from the retries so far', () => {
    expect(decideRetry(new DbDown('x'), policy, 0, NOW)).toEqual({
      retry: true,
      when: NOW + 2000,
      exc: expect.any(DbDown),
    });
    expect(decideRetry(new DbDown('x'), policy, 2, NOW)).toMatchObject({ retry: true, when: NOW + 8000 });
  });

  test('no retry once maxRetries are spent, for dontAutoretryFor, for unlisted errors', () => {
    expect(decideRetry(new DbDown('x'), policy, 3, NOW)).toEqual({ retry: false });
    expect(decideRetry(new DbTimeout('x'), policy, 0, NOW)).toEqual({ retry: false });
    expect(decideRetry(new RangeError('x'), policy, 0, NOW)).toEqual({ retry: false });
    expect(decideRetry(new MaxRetriesExceededError('t', 'id', 3), policy, 0, NOW)).toEqual({ retry: false });
  });

  test('never for invalid arguments or a hard time limit, even if listed', () => {
    const everything: RetryPolicy = { ...policy, autoretryFor: [Error], dontAutoretryFor: [] };
    expect(decideRetry(new TaskValidationError('t', []), everything, 0, NOW)).toEqual({ retry: false });
    expect(decideRetry(new TimeLimitExceeded(1), everything, 0, NOW)).toEqual({ retry: false });
    expect(decideRetry(new Ignore(), everything, 0, NOW)).toMatchObject({ retry: true });
  });

  test('errors rebuilt from a worker thread match autoretryFor by their original class names', () => {
    const down = new Error('from a thread');
    setErrorClassChain(down, ['DbDown', 'Error']);
    expect(decideRetry(down, policy, 0, NOW)).toMatchObject({ retry: true });
    const timeout = new Error('from a thread');
    setErrorClassChain(timeout, ['DbTimeout', 'DbDown', 'Error']);
    expect(decideRetry(timeout, policy, 0, NOW)).toEqual({ retry: false });
  });

  test('full jitter draws from the injected random source', () => {
    const jittered = { ...policy, retryJitter: true };
    expect(decideRetry(new DbDown('x'), jittered, 2, NOW, () => 0)).toMatchObject({ when: NOW });
    expect(decideRetry(new DbDown('x'), jittered, 2, NOW, () => 0.999)).toMatchObject({ when: NOW + 8000 });
  });
});

function envelope(overrides: Partial<TaskEnvelope> = {}): TaskEnvelope {
  const { envelope: built } = buildOutgoingTask({
    name: 'admit.me',
    id: '11111111-1111-4111-8111-111111111111',
    options: {},
    task: undefined,
    defaultQueue: 'celery',
    parent: undefined,
    now: NOW,
  });
  return { ...built, ...overrides };
}

describe('admit', () => {
  const task = { options: { name: 'admit.me' } } as unknown as BaseTask;
  const rules = (revoked: string[] = []): AdmissionRules => ({
    jsonLimits: { maxBytes: 1 << 20, maxDepth: 64 },
    findTask: (name) => (name === 'admit.me' ? task : undefined),
    isRevoked: (id) => revoked.includes(id),
  });
  const message = (overrides: Partial<TaskEnvelope> = {}): WireMessage =>
    encodeTaskMessage(envelope(overrides));

  test('a message that is not a task is undecodable, with the decoder reason', () => {
    const garbage: WireMessage = { ...message(), body: Buffer.from('not json') };
    expect(admit(garbage, rules(), 1000, NOW)).toMatchObject({ kind: 'undecodable', reason: 'invalid-json' });
  });

  test('an unknown task name, a revoked id, an expired message', () => {
    expect(admit(message({ task: 'nope' }), rules(), 1000, NOW)).toMatchObject({ kind: 'unknown-task' });
    const id = '11111111-1111-4111-8111-111111111111';
    expect(admit(message(), rules([id]), 1000, NOW)).toMatchObject({ kind: 'revoked', reason: 'revoked' });
    const past = new Date(NOW - 1).toISOString();
    expect(admit(message({ expires: past }), rules(), 1000, NOW)).toMatchObject({
      kind: 'revoked',
      reason: 'expired',
    });
  });

  test('an ETA within the hold window is held; a later one goes back to the broker', () => {
    const soon = new Date(NOW + 400).toISOString();
    const later = new Date(NOW + 5000).toISOString();
    expect(admit(message({ eta: soon }), rules(), 1000, NOW)).toMatchObject({ kind: 'run', holdMs: 400 });
    expect(admit(message({ eta: later }), rules(), 1000, NOW)).toMatchObject({ kind: 'defer', waitMs: 5000 });
    expect(admit(message(), rules(), 1000, NOW)).toMatchObject({ kind: 'run', holdMs: 0, task });
  });
});

describe('buildOutgoingTask', () => {
  const base = {
    name: 'mail.send',
    id: '22222222-2222-4222-8222-222222222222',
    defaultQueue: 'celery',
    parent: undefined,
    now: NOW,
  };

  test('a plain call: protocol v2 defaults, the App default queue, no delay', () => {
    const {
      envelope: built,
      queue,
      delayMs,
    } = buildOutgoingTask({ ...base, options: { args: [1] }, task: undefined });
    expect(built).toMatchObject({
      id: base.id,
      task: 'mail.send',
      args: [1],
      kwargs: {},
      embed: EMPTY_EMBED,
      retries: 0,
      eta: null,
      expires: null,
      rootId: base.id,
      parentId: null,
      correlationId: base.id,
      priority: 0,
      ignoreResult: false,
    });
    expect(queue).toBe('celery');
    expect(delayMs).toBe(0);
  });

  test('countdown, expires, the task options, and the call options over them', () => {
    const task = { ignoreResult: true, priority: 3, queue: 'mail' };
    const {
      envelope: built,
      queue,
      delayMs,
    } = buildOutgoingTask({
      ...base,
      options: { countdown: 10, expires: 60, kwargs: { to: 'x' } },
      task,
    });
    expect(built.eta).toBe(new Date(NOW + 10_000).toISOString());
    expect(built.expires).toBe(new Date(NOW + 60_000).toISOString());
    expect(built).toMatchObject({ ignoreResult: true, priority: 3, kwargs: { to: 'x' } });
    expect([queue, delayMs]).toEqual(['mail', 10_000]);
    const overridden = buildOutgoingTask({ ...base, options: { queue: 'urgent', priority: 9 }, task });
    expect([overridden.queue, overridden.envelope.priority]).toEqual(['urgent', 9]);
  });

  test('sent from inside a run: the run is the parent, its root stays the root', () => {
    const parent = { id: 'p-1', rootId: 'root-0', calledDirectly: false } as never;
    const { envelope: built } = buildOutgoingTask({ ...base, options: {}, task: undefined, parent });
    expect([built.parentId, built.rootId]).toEqual(['p-1', 'root-0']);
    const direct = { id: 'p-2', rootId: 'root-9', calledDirectly: true } as never;
    const { envelope: fromDirect } = buildOutgoingTask({
      ...base,
      options: {},
      task: undefined,
      parent: direct,
    });
    expect([fromDirect.parentId, fromDirect.rootId]).toEqual([null, base.id]);
  });
});
