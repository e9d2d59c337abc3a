import {
  App,
  CorruptResultError,
  RemoteTaskError,
  ResultTooLargeError,
  States,
  TransportError,
  type StateChange,
} from '@queue/core';
import type Redis from 'ioredis';
import { RedisResultBackend, taskKey } from '../src';
import { REDIS_URL, redisAdmin, redisApp, uniqueName } from './helpers';

/** The redis:// backend against the local Redis: any App (any process) reads any task's states. */
jest.setTimeout(30_000);

let admin: Redis;
const apps: App[] = [];
beforeAll(() => (admin = redisAdmin()));
afterAll(async () => {
  await admin.quit();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close({ timeoutMs: 1000 })));
});

function track(app: App): App {
  apps.push(app);
  return app;
}

class CardDeclined extends Error {
  override name = 'CardDeclined';
}

/** A worker App with the test tasks, on the shared in-memory broker `broker`. */
async function workerApp(broker: string, options: Parameters<typeof redisApp>[1] = {}): Promise<App> {
  const app = track(redisApp(broker, options));
  app.task({ name: 'r.report', bind: true }, async (self, percent: number) => {
    await self.updateState('PROGRESS', { percent });
    await new Promise((resolve) => setTimeout(resolve, 100));
    return percent * 2;
  });
  app.task({ name: 'r.fail' }, (message: string) => {
    throw new CardDeclined(message);
  });
  app.task({ name: 'r.quiet', ignoreResult: true }, () => 'nobody stores me');
  app.task({ name: 'r.big' }, (size: number) => 'x'.repeat(size));
  await app.worker({ concurrency: 4 }).start();
  return app;
}

test('a state stored by one App is read by any other, also after the sender is gone', async () => {
  const broker = uniqueName('shared');
  await workerApp(broker);
  const sender = track(redisApp(broker));
  const result = await sender.sendTask('r.report', [21]);
  const seen: StateChange[] = [];
  for await (const change of result) seen.push(change);
  expect(seen.map((s) => s.state)).toEqual(['PROGRESS', 'SUCCESS']);
  expect(seen[0]!.info).toEqual({ percent: 21 });
  await expect(result.get({ timeout: 5 })).resolves.toBe(42);
  await sender.close();

  const later = track(redisApp(broker)); // a new process, after the sender closed
  const again = later.asyncResult(result.id);
  expect(again.state).toBe(States.PENDING); // nothing read yet
  await expect(again.refresh()).resolves.toEqual({ state: States.SUCCESS, info: 42 });
  expect(again.state).toBe(States.SUCCESS);
  await expect(again.get({ timeout: 5 })).resolves.toBe(42);
});

test("the key holds Celery's document, expiring after resultExpires (a day by default)", async () => {
  const broker = uniqueName('layout');
  const worker = await workerApp(broker);
  const result = await worker.sendTask('r.report', [5]);
  await result.get({ timeout: 5 });
  const document = JSON.parse((await admin.get(taskKey(result.id)))!);
  expect(document).toEqual({
    status: 'SUCCESS',
    result: 10,
    traceback: null,
    children: [],
    date_done: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/),
    task_id: result.id,
  });
  const ttl = await admin.ttl(taskKey(result.id));
  expect(ttl).toBeGreaterThan(86_000);
  expect(ttl).toBeLessThanOrEqual(86_400);
  await admin.del(taskKey(result.id));
});

test('FAILURE comes back with the type and message; a waiting get() rejects with RemoteTaskError', async () => {
  const broker = uniqueName('failure');
  await workerApp(broker);
  const caller = track(redisApp(broker));
  const result = await caller.sendTask('r.fail', ['declined']);
  const error = await result.get({ timeout: 5 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RemoteTaskError);
  expect((error as RemoteTaskError).excType).toBe('CardDeclined');
  expect((error as RemoteTaskError).excMessage).toBe('declined');
  await result.forget();
});

test('forget() removes a stored state; ignoreResult stores nothing', async () => {
  const broker = uniqueName('forget');
  const worker = await workerApp(broker);
  const result = await worker.sendTask('r.report', [1]);
  await result.get({ timeout: 5 });
  expect(await admin.exists(taskKey(result.id))).toBe(1);
  await result.forget();
  expect(await admin.exists(taskKey(result.id))).toBe(0);
  await expect(track(redisApp(broker)).asyncResult(result.id).refresh()).resolves.toEqual({
    state: States.PENDING,
    info: null,
  });
  const quiet = await worker.sendTask('r.quiet');
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await admin.exists(taskKey(quiet.id))).toBe(0);
});

test('resultExpires: 1 s expires the key, null keeps it', async () => {
  const broker = uniqueName('expiry');
  const shortLived = await workerApp(broker, { resultExpires: 1 });
  const soon = await shortLived.sendTask('r.report', [1]);
  await soon.get({ timeout: 5 });
  expect(await admin.ttl(taskKey(soon.id))).toBeLessThanOrEqual(1);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await expect(soon.refresh()).resolves.toMatchObject({ state: States.PENDING });

  const kept = await workerApp(uniqueName('keep'), { resultExpires: null });
  const forever = await kept.sendTask('r.report', [1]);
  await forever.get({ timeout: 5 });
  expect(await admin.ttl(taskKey(forever.id))).toBe(-1);
  await admin.del(taskKey(forever.id));
});

test('a foreign value under a task key is a clear error on that result; the worker goes on', async () => {
  const broker = uniqueName('foreign');
  const worker = await workerApp(broker);
  const id = `foreign-${uniqueName('id')}`;
  await admin.set(taskKey(id), 'this is not ours');
  const reader = track(redisApp(broker)).asyncResult(id);
  await expect(reader.refresh()).rejects.toBeInstanceOf(CorruptResultError);
  await expect(reader.get({ timeout: 2 })).rejects.toThrow(/not a task state document/);
  await admin.set(taskKey(id), JSON.stringify({ task_id: 'someone-else', status: 'SUCCESS' }));
  await expect(reader.refresh()).rejects.toThrow(/names task "someone-else"/);
  const fine = await worker.sendTask('r.report', [3]);
  await expect(fine.get({ timeout: 5 })).resolves.toBe(6);
  await admin.del(taskKey(id), taskKey(fine.id));
});

test('a result over maxResultBytes is not stored: the task ends in FAILURE saying so', async () => {
  const broker = uniqueName('too-big');
  const worker = await workerApp(broker, { maxResultBytes: 1000 });
  const small = await worker.sendTask('r.big', [10]);
  await expect(small.get({ timeout: 5 })).resolves.toBe('x'.repeat(10));
  const big = await worker.sendTask('r.big', [5000]);
  const error = await big.get({ timeout: 5 }).catch((e: unknown) => e);
  expect((error as RemoteTaskError).excType).toBe('ResultTooLargeError');
  expect((error as RemoteTaskError).excMessage).toMatch(/over the limit of 1000/);
  expect((await admin.get(taskKey(big.id)))!.length).toBeLessThan(1000);
  expect(new ResultTooLargeError(5002, 1000).code).toBe('RESULT_TOO_LARGE');
  await admin.del(taskKey(small.id), taskKey(big.id));
});

test('a ready state is never replaced by a late non-ready one (a redelivered duplicate run)', async () => {
  const backend = new RedisResultBackend(REDIS_URL, {}, 60);
  const id = uniqueName('late');
  const target = { taskId: id, replyTo: '', correlationId: id };
  const base = { taskId: id, traceback: null, children: null };
  try {
    await backend.report(target, { ...base, state: 'SUCCESS', result: 1 });
    await backend.report(target, { ...base, state: 'STARTED', result: null });
    await expect(backend.fetch(id)).resolves.toMatchObject({ state: 'SUCCESS', result: 1 });
    await backend.report(target, { ...base, state: 'FAILURE', result: null });
    await expect(backend.fetch(id)).resolves.toMatchObject({ state: 'FAILURE' });
  } finally {
    await backend.forget(id);
    await backend.close();
  }
});

test('a chord part is counted once per task, and exactly one of concurrent last parts gets the header', async () => {
  const one = new RedisResultBackend(REDIS_URL, {}, 60);
  const two = new RedisResultBackend(REDIS_URL, {}, 60);
  const groupId = uniqueName('chord');
  const ids = Array.from({ length: 40 }, (_, i) => `${groupId}-t${i}`);
  try {
    await one.chords.prepare(groupId, ids);
    expect(await admin.get(`celery-taskset-meta-${groupId}.s`)).toBe('40');
    expect(await admin.ttl(`celery-taskset-meta-${groupId}.s`)).toBeGreaterThan(0);
    const part = (i: number) => ({
      groupId,
      taskId: ids[i]!,
      groupIndex: i,
      state: 'SUCCESS',
      result: i * 10,
    });
    // A redelivered part: the same member, counted once.
    await expect(one.chords.partReturned(part(0))).resolves.toBeUndefined();
    await expect(two.chords.partReturned(part(0))).resolves.toBeUndefined();
    expect(await admin.zrange(`celery-taskset-meta-${groupId}.j`, 0, -1)).toEqual([
      '[1, "' + ids[0] + '", "SUCCESS", 0]',
    ]);
    const outcomes = await Promise.all(
      ids.slice(1).map((_, i) => (i % 2 ? one : two).chords.partReturned(part(i + 1))),
    );
    const joined = outcomes.filter((parts) => parts !== undefined);
    expect(joined).toHaveLength(1);
    expect(joined[0]!.map((each) => each.result)).toEqual(ids.map((_, i) => i * 10));
    expect(await admin.keys(`celery-taskset-meta-${groupId}*`)).toEqual([]);
  } finally {
    await admin.del(...['.j', '.s', '.t'].map((suffix) => `celery-taskset-meta-${groupId}${suffix}`));
    await one.close();
    await two.close();
  }
});

test('an unreachable Redis fails within its timeout with the URL, password masked', async () => {
  const backend = new RedisResultBackend('redis://:s3cret@127.0.0.1:1/0?timeoutMs=1000', {}, 60);
  try {
    const started = Date.now();
    const error = await backend.fetch('any').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toMatch(/redis:\/\/:\*\*\*\*@127\.0\.0\.1:1\/0/);
    expect(() => new RedisResultBackend('redis://127.0.0.1/0?bogus=1', {}, 60)).toThrow(
      /unknown parameter "bogus"/,
    );
    expect((error as Error).message).not.toContain('s3cret');
    expect(Date.now() - started).toBeLessThan(10_000);
  } finally {
    await backend.close();
  }
});
