import { celeryHeaders } from '../src/transport/header-values';

/** Integers amqplib would tag as shorts (which py-amqp misreads as strings) go out as 64-bit integers. */
describe('celeryHeaders', () => {
  test('tags 128..32767 (and -32768..-129), in arrays and tables too; leaves the rest', () => {
    const out = celeryHeaders({
      retries: 3,
      group_index: 200,
      timelimit: [300, null],
      nested: { deep: -200, small: 5 },
      big: 70_000,
      ratio: 0.5,
      name: 'x',
    });
    expect(out).toEqual({
      retries: 3,
      group_index: { '!': 'long', value: 200 },
      timelimit: [{ '!': 'long', value: 300 }, null],
      nested: { deep: { '!': 'long', value: -200 }, small: 5 },
      big: 70_000,
      ratio: 0.5,
      name: 'x',
    });
  });

  test('headers with nothing to tag are returned as they are (no copy on the hot path)', () => {
    const headers = { retries: 0, timelimit: [null, null], task: 'add', id: 'x' };
    expect(celeryHeaders(headers)).toBe(headers);
  });
});
