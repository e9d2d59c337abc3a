import type { Channel } from 'amqplib';
import { AckBatcher } from '../src/transport/ack-batcher';
import { ConfirmDeadlines } from '../src/transport/confirm-deadlines';

/** The pieces of the hot path that batch work, against fakes (no broker): they must never lose or bend an ack. */

type Sent = ['ack', number, boolean] | ['nack', number, boolean];

function fakeChannel(sent: Sent[]): Channel {
  return {
    ack: (message: { fields: { deliveryTag: number } }, allUpTo = false) =>
      sent.push(['ack', message.fields.deliveryTag, allUpTo]),
  } as unknown as Channel;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('AckBatcher', () => {
  test('finished deliveries at the head go out as one multiple ack, at the end of the turn', async () => {
    const sent: Sent[] = [];
    const acks = new AckBatcher(fakeChannel(sent), () => true);
    for (let tag = 1; tag <= 5; tag++) acks.delivered(tag);
    for (const tag of [2, 1, 3]) acks.ack(tag);
    expect(sent).toEqual([]); // nothing before the turn ends
    await turn();
    expect(sent).toEqual([['ack', 3, true]]);
    acks.ack(5);
    await turn();
    expect(sent).toEqual([
      ['ack', 3, true],
      ['ack', 5, false],
    ]); // never past 4, still running
    acks.ack(4);
    await turn();
    expect(sent.at(-1)).toEqual(['ack', 4, false]);
  });

  test('a requeued delivery is never covered by a multiple ack; acks before it go first', async () => {
    const sent: Sent[] = [];
    const channel = fakeChannel(sent);
    const acks = new AckBatcher(channel, () => true);
    for (let tag = 1; tag <= 4; tag++) acks.delivered(tag);
    acks.ack(1);
    acks.ack(3);
    acks.settledOtherwise(2, () => sent.push(['nack', 2, true]));
    acks.ack(4);
    await turn();
    expect(sent).toEqual([
      ['ack', 1, false],
      ['ack', 3, false],
      ['nack', 2, true],
      ['ack', 4, false],
    ]);
  });

  test('nothing is sent for a channel that died (the broker requeued its deliveries)', async () => {
    const sent: Sent[] = [];
    let live = true;
    const acks = new AckBatcher(fakeChannel(sent), () => live);
    acks.delivered(1);
    acks.ack(1);
    live = false;
    await turn();
    expect(sent).toEqual([]);
  });

  test('10,000 randomized runs: every tag acked exactly once, no multiple ack past an unfinished tag', async () => {
    const sent: Sent[] = [];
    const acks = new AckBatcher(fakeChannel(sent), () => true);
    const total = 10_000;
    const order = Array.from({ length: total }, (_, i) => i + 1);
    for (const tag of order) acks.delivered(tag);
    // Finish in a shuffled order, a few per turn.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const finished = new Set<number>();
    let covered = 0; // highest tag covered by a multiple ack so far
    const acked = new Set<number>();
    for (let i = 0; i < order.length; i += 37) {
      for (const tag of order.slice(i, i + 37)) {
        finished.add(tag);
        acks.ack(tag);
      }
      const before = sent.length;
      await turn();
      for (const [, tag, multiple] of sent.slice(before)) {
        if (multiple) {
          for (let t = covered + 1; t <= tag; t++) {
            expect(finished.has(t)).toBe(true);
            if (!acked.has(t)) acked.add(t);
          }
          covered = Math.max(covered, tag);
        } else {
          expect(acked.has(tag)).toBe(false);
          acked.add(tag);
        }
      }
    }
    expect(acked.size).toBe(total);
  });
});

describe('ConfirmDeadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('expires exactly the publishes not confirmed by their deadline, with one timer', () => {
    const deadlines = new ConfirmDeadlines();
    const expired: number[] = [];
    const now = Date.now();
    const confirm = Array.from({ length: 5 }, (_, i) =>
      deadlines.track(now + 1000 + i, () => expired.push(i)),
    );
    confirm[0]!();
    confirm[3]!();
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(2000);
    expect(expired).toEqual([1, 2, 4]);
    confirm[1]!(); // too late: no second outcome
    expect(expired).toEqual([1, 2, 4]);
  });

  test('holds no timer once everything is confirmed (an idle process can end)', () => {
    const deadlines = new ConfirmDeadlines();
    const confirms = Array.from({ length: 3000 }, () =>
      deadlines.track(Date.now() + 15_000, () => undefined),
    );
    expect(jest.getTimerCount()).toBe(1);
    for (const confirm of confirms) confirm();
    expect(jest.getTimerCount()).toBe(0);
  });
});
