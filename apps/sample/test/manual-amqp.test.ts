process.env.MANUAL_STEP_MS = '1';
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { App, States, type AsyncResult, type StateChange } from '@queue/core';
import '@queue/amqp';
import { Manual } from '../src/tasks';

/** The seed's `manual` over the real RabbitMQ, with the rpc:// backend (a worker in this process). */
const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
const queue = `test.sample-manual.${randomUUID().slice(0, 8)}`;
const app = new App({
  name: 'sample-amqp',
  broker: AMQP_URL,
  resultBackend: 'rpc://',
  defaultQueue: queue,
  setAsCurrent: false,
});

jest.setTimeout(30_000);

beforeAll(() => app.worker({ concurrency: 2 }).start());
afterAll(async () => {
  await app.close();
  const model = await connect(AMQP_URL);
  const channel = await model.createChannel();
  await channel.deleteQueue(queue);
  await channel.deleteExchange(queue);
  await model.close();
});

test('manual reports 50 increasing PROGRESS states over RabbitMQ, then SUCCESS', async () => {
  expect(app.getTask(Manual).options.name).toBe('manual');
  // Followed before it is sent: states reported before a listener subscribes are not replayed.
  const taskId = randomUUID();
  const following = collectStates(app.asyncResult(taskId));
  await app.sendTask('manual', [7], {}, { taskId });
  const seen = await following;
  const progress = seen
    .filter((s) => s.state === 'PROGRESS')
    .map((s) => (s.info as { percent: number }).percent);
  expect(progress).toHaveLength(50);
  expect(progress[49]).toBe(100);
  expect(progress.every((p, i) => i === 0 || p > progress[i - 1]!)).toBe(true);
  expect(seen[0]!.state).toBe(States.STARTED);
  expect(seen.at(-1)).toEqual({ state: States.SUCCESS, info: 7 });
});

async function collectStates(result: AsyncResult): Promise<StateChange[]> {
  const seen: StateChange[] = [];
  for await (const change of result) seen.push(change);
  return seen;
}
