// The memory broker and a fast `manual`, whatever the surrounding environment says.
delete process.env.AMQP_URL;
process.env.MANUAL_STEP_MS = '5';
import { States } from '@queue/core';
import { app } from '../src/app';
import { readConfig } from '../src/config';
import type { RecordView } from '../src/records';
import { startSample, type RunningSample } from '../src/sample';
import { Manual } from '../src/tasks';
import type { TaskSnapshot } from '../src/web/task-snapshot';
import { waitFor } from './helpers';

let sample: RunningSample;

beforeAll(async () => {
  sample = await startSample({ ...readConfig({}), port: 0 }, app);
}, 60_000);

afterAll(async () => {
  await sample?.stop();
});

interface Reply {
  statusCode: number;
  headers: Headers;
  body: string;
  json<T = unknown>(): T;
}

/**
 * Real HTTP against the listening server. (fastify.inject() is not usable under jest here: its
 * light-my-request loads the ESM-only `cookie` 2, which jest's CommonJS sandbox cannot require.)
 */
async function inject(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<Reply> {
  const response = await fetch(sample.url + path, {
    method,
    headers: payload === undefined ? {} : { 'content-type': 'application/json' },
    body: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
    signal: AbortSignal.timeout(5_000),
  });
  const body = await response.text();
  return {
    statusCode: response.status,
    headers: response.headers,
    body,
    json: <T>() => JSON.parse(body) as T,
  };
}

describe('the web app on the in-memory broker', () => {
  it('serves the page with the form', async () => {
    const response = await inject('GET', '/');
    expect(response.statusCode).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.body).toContain('<form id="create-form">');
    expect(response.body).toContain('>Create</button>');
  });

  it('creates a record, lists it, and follows its task to SUCCESS at 100%', async () => {
    const created = await inject('POST', '/api/records', { title: '  Write the report  ' });
    expect(created.statusCode).toBe(201);
    const record = created.json<RecordView>();
    expect(record).toMatchObject({ title: 'Write the report', task: { id: record.taskId } });
    expect(record.taskId).toMatch(/^[0-9a-f-]{36}$/);

    const listed = (await inject('GET', '/api/records')).json<{ records: RecordView[] }>().records;
    expect(listed.map((r) => r.id)).toContain(record.id);

    const percents: number[] = [];
    const done = await waitFor('the task to succeed', async () => {
      const task = (await inject('GET', `/api/tasks/${record.taskId}`)).json<TaskSnapshot>();
      percents.push(task.percent);
      return task.state === States.SUCCESS ? task : undefined;
    });
    expect(done).toEqual({ id: record.taskId, state: 'SUCCESS', percent: 100, info: record.id });
    expect(percents.every((p, i) => i === 0 || p >= percents[i - 1]!)).toBe(true);

    const after = (await inject('GET', '/api/records')).json<{ records: RecordView[] }>().records;
    expect(after.find((r) => r.id === record.id)?.task).toMatchObject({ state: 'SUCCESS', percent: 100 });
  });

  it('lists the newest record first', async () => {
    const first = (await inject('POST', '/api/records', { title: 'older' })).json<RecordView>();
    const second = (await inject('POST', '/api/records', { title: 'newer' })).json<RecordView>();
    const ids = (await inject('GET', '/api/records'))
      .json<{ records: RecordView[] }>()
      .records.map((r) => r.id);
    expect(ids.indexOf(second.id)).toBeLessThan(ids.indexOf(first.id));
  });

  it.each([
    ['no title', {}, 'title', 'title is required'],
    ['an empty title', { title: '' }, 'title', 'title must not be empty'],
    ['a blank title', { title: ' \t ' }, 'title', 'title must not be empty'],
    ['a title that is not a string', { title: 42 }, 'title', 'title must be a string'],
    ['a title that is too long', { title: 'x'.repeat(201) }, 'title', 'title must be at most 200 characters'],
    [
      'a body that is not an object',
      ['title'],
      'body',
      'the body must be a JSON object like {"title": "..."}',
    ],
  ])('answers %s with 400 and creates nothing', async (_case, payload, field, message) => {
    const before = (await inject('GET', '/api/records')).json<{ records: RecordView[] }>().records.length;
    const response = await inject('POST', '/api/records', payload);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_input', field, message });
    const after = (await inject('GET', '/api/records')).json<{ records: RecordView[] }>().records.length;
    expect(after).toBe(before);
  });

  it('accepts a title of exactly 200 characters (counted as characters, not bytes)', async () => {
    const response = await inject('POST', '/api/records', { title: 'é'.repeat(199) + '🙂' });
    expect(response.statusCode).toBe(201);
  });

  it('answers malformed JSON with a JSON 400', async () => {
    const response = await inject('POST', '/api/records', '{"title": ');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });
  });

  it('reports PENDING for a task it has never seen', async () => {
    const response = await inject('GET', '/api/tasks/no-such-task');
    expect(response.json()).toEqual({ id: 'no-such-task', state: 'PENDING', percent: 0, info: null });
  });

  it('manual loads its record: a missing one fails the task with RecordNotFoundError', async () => {
    const result = await Manual.applyAsync({ args: [987654] });
    await expect(result.get({ timeout: 10 })).rejects.toMatchObject({
      excType: 'RecordNotFoundError',
      excMessage: 'record 987654 does not exist',
    });
  });
});
