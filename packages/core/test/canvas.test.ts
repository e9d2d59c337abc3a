import {
  App,
  BaseTask,
  ChordNotSupportedError,
  RemoteTaskError,
  Signature,
  Task,
  chain,
  chord,
  group,
  type SignatureDict,
} from '@queue/core';
import { testApp, waitFor } from './helpers';

/** Workflows on the memory transport: what travels is Celery's own JSON, decoded by our worker. */
describe('canvas', () => {
  let app: App;
  const seen: string[] = [];
  const add = () => app.task({ name: 'canvas.add' }, (a: number, b: number) => a + b);
  let tasks: ReturnType<typeof define>;

  function define() {
    return {
      add: add(),
      mul: app.task({ name: 'canvas.mul' }, (a: number, b: number) => a * b),
      tsum: app.task({ name: 'canvas.tsum' }, (values: number[]) => values.reduce((x, y) => x + y, 0)),
      boom: app.task({ name: 'canvas.boom' }, (value: number): number => {
        throw new RangeError(`boom ${value}`);
      }),
      record: app.task({ name: 'canvas.record' }, (...args: unknown[]) => {
        seen.push(JSON.stringify(args));
        return args.length;
      }),
    };
  }

  beforeEach(async () => {
    seen.length = 0;
    app = testApp();
    tasks = define();
    await app.worker({ concurrency: 4 }).start();
  });
  afterEach(() => app.close());

  test('a signature is Celery JSON, set() adds options without changing the original', () => {
    const sig = tasks.add.s(2, 2);
    const delayed = sig.set({ countdown: 5, queue: 'q1' });
    expect(sig.toJSON()).toEqual({
      task: 'canvas.add',
      args: [2, 2],
      kwargs: {},
      options: {},
      subtask_type: null,
      immutable: false,
    });
    expect(delayed.toJSON().options).toEqual({ countdown: 5, queue: 'q1' });
    expect(tasks.add.si(1, 1).toJSON().immutable).toBe(true);
  });

  test('a partial signature gets the applied args first', async () => {
    const result = await tasks.mul.s(10).delay(3);
    expect(await result.get({ timeout: 5 })).toBe(30);
  });

  test('link sends the callback with the result first; link_error sends errbacks the failed id', async () => {
    const linked = await tasks.add.s(1, 2).link(tasks.record.s('then')).delay();
    expect(await linked.get({ timeout: 5 })).toBe(3);
    await waitFor(() => seen.includes('[3,"then"]'));

    const failed = await tasks.boom.s(7).linkError(tasks.record.s('on-error')).delay();
    await expect(failed.get({ timeout: 5 })).rejects.toBeInstanceOf(RemoteTaskError);
    await waitFor(() => seen.includes(JSON.stringify([failed.id, 'on-error'])));
  });

  test('a chain passes each result on and resolves with the last', async () => {
    const result = await chain(tasks.add.s(2, 2), tasks.mul.s(4), tasks.add.s(1)).applyAsync();
    expect(await result.get({ timeout: 5 })).toBe(17);
  });

  test('an immutable step ignores the previous result', async () => {
    const result = await chain(tasks.add.s(2, 2), tasks.mul.si(5, 5)).applyAsync();
    expect(await result.get({ timeout: 5 })).toBe(25);
  });

  test('a failing step stops the chain: later steps are FAILURE with the same error, errbacks run', async () => {
    const never = tasks.record.s('never-runs');
    const workflow = chain(tasks.add.s(1, 1), tasks.boom.s(), never);
    const last = await chain(workflow).applyAsync();
    const error = (await last.get({ timeout: 5, propagate: false })) as unknown as RemoteTaskError;
    expect(error).toBeInstanceOf(RemoteTaskError);
    expect(error.excMessage).toBe('boom 2');
    expect(seen.some((entry) => entry.includes('never-runs'))).toBe(false);
  });

  test('a group runs in parallel; GroupResult gives results in order and counts completions', async () => {
    const result = await group(tasks.add.s(1, 1), tasks.mul.s(3, 3), tasks.add.s(10, 10)).applyAsync();
    const values: [number, number, number] = await result.get({ timeout: 5 });
    expect(values).toEqual([2, 9, 20]);
    expect(result.completedCount()).toBe(3);
    expect(result.ready()).toBe(true);
    expect(result.successful()).toBe(true);
  });

  test('group states arrive as they happen, tagged with their member', async () => {
    const result = await group(tasks.add.s(1, 1), tasks.add.s(2, 2)).applyAsync();
    const ready: number[] = [];
    for await (const change of result) if (change.state === 'SUCCESS') ready.push(change.index);
    expect(ready.sort()).toEqual([0, 1]);
  });

  test('a chord calls its body once, with the header results in header order', async () => {
    const result = await chord(
      [tasks.add.s(1, 1), tasks.add.s(2, 2), tasks.mul.s(3, 3), tasks.add.s(4, 4)],
      tasks.tsum.s(),
    ).applyAsync();
    expect(await result.get({ timeout: 5 })).toBe(2 + 4 + 9 + 8);
  });

  test('a chord with an empty header calls the body with []', async () => {
    const result = await chord([], tasks.tsum.s()).applyAsync();
    expect(await result.get({ timeout: 5 })).toBe(0);
  });

  test('a failing header task fails the body with ChordError naming it', async () => {
    const body = tasks.tsum.s().linkError(tasks.record.s('chord-errback'));
    const result = await chord([tasks.add.s(1, 1), tasks.boom.s(3)], body).applyAsync();
    const error = (await result.get({ timeout: 5, propagate: false })) as unknown as RemoteTaskError;
    expect(error.excType).toBe('ChordError');
    expect(error.excMessage).toMatch(/^Dependency [0-9a-f-]{36} raised RangeError\('boom 3'\)$/);
    await waitFor(() => seen.includes(JSON.stringify([result.id, 'chord-errback'])));
  });

  test('group | task in a chain becomes a chord', async () => {
    const result = await chain(
      tasks.add.s(1, 1),
      group(tasks.mul.s(10), tasks.mul.s(100)),
      tasks.tsum.s(),
    ).applyAsync();
    expect(await result.get({ timeout: 5 })).toBe(220);
  });

  test('a chain links after its last step; its errbacks go on every step; a chord links after its body', async () => {
    const linked = await chain(tasks.add.s(1, 1), tasks.mul.s(5))
      .link(tasks.record.s('chain-done'))
      .applyAsync();
    expect(await linked.get({ timeout: 5 })).toBe(10);
    await waitFor(() => seen.includes('[10,"chain-done"]'));

    const failing = chain(tasks.add.s(1, 1), tasks.boom.s()).linkError(tasks.record.s('chain-failed'));
    const last = await failing.applyAsync();
    await expect(last.get({ timeout: 5 })).rejects.toBeInstanceOf(RemoteTaskError);
    await waitFor(() => seen.some((entry) => entry.endsWith(',"chain-failed"]')));

    const body = await chord([tasks.add.s(2, 2)], tasks.tsum.s())
      .link(tasks.record.s('chord-done'))
      .applyAsync();
    expect(await body.get({ timeout: 5 })).toBe(4);
    await waitFor(() => seen.includes('[4,"chord-done"]'));
  });

  test('a group refuses link (use a chord) but passes linkError to every member', async () => {
    await expect(group(tasks.add.s(1, 1)).link(tasks.record.s()).applyAsync()).rejects.toThrow(/chord/);
    const result = await group(tasks.boom.s(1), tasks.boom.s(2))
      .linkError(tasks.record.s('member-failed'))
      .applyAsync();
    await result.get({ timeout: 5, propagate: false });
    await waitFor(() => seen.filter((entry) => entry.endsWith(',"member-failed"]')).length === 2);
  });

  test('a malformed workflow field fails the task with an error naming it; the worker keeps serving', async () => {
    const embed = { callbacks: null, errbacks: null, chain: [42, { task: '' }], chord: null };
    const result = await app.applyTask('canvas.add', { args: [1, 1] }, { embed });
    const error = (await result.get({ timeout: 5, propagate: false })) as unknown as RemoteTaskError;
    expect(error.excType).toBe('ConfigurationError');
    expect(error.excMessage).toBe('chain: the signature has no task name');
    expect(await (await tasks.add.delay(2, 2)).get({ timeout: 5 })).toBe(4);
  });

  test('signatures by name reach tasks this code does not import', async () => {
    const result = await chain(app.signature<number>('canvas.add', [5, 5]), tasks.mul.s(2)).applyAsync();
    expect(await result.get({ timeout: 5 })).toBe(20);
  });

  test('class tasks have s() and si() too', async () => {
    @Task({ name: 'canvas.double' })
    class Double extends BaseTask<[number], number> {
      run(value: number) {
        return value * 2;
      }
    }
    app.setAsCurrent();
    const result = await chain(tasks.add.s(3, 4), Double.s()).applyAsync();
    expect(await result.get({ timeout: 5 })).toBe(14);
  });
});

describe('canvas in eager mode (taskAlwaysEager)', () => {
  test('chains, groups and chords run in the calling process', async () => {
    const app = testApp({ taskAlwaysEager: true });
    try {
      const add = app.task({ name: 'eager.add' }, (a: number, b: number) => a + b);
      const total = app.task({ name: 'eager.total' }, (values: number[]) =>
        values.reduce((x, y) => x + y, 0),
      );
      expect(await (await chain(add.s(1, 2), add.s(3)).applyAsync()).get({ timeout: 5 })).toBe(6);
      expect(await (await group(add.s(1, 1), add.s(2, 2)).applyAsync()).get({ timeout: 5 })).toEqual([2, 4]);
      expect(
        await (await chord([add.s(1, 1), add.s(2, 2)], total.s()).applyAsync()).get({ timeout: 5 }),
      ).toBe(6);
    } finally {
      await app.close();
    }
  });
});

describe('canvas: types (checked by tsc in CI: a wrong step does not compile)', () => {
  test('a chain checks each step against the previous result', () => {
    const app = testApp();
    const add = app.task({ name: 'types.add' }, (a: number, b: number) => a + b);
    const shout = app.task({ name: 'types.shout' }, (text: string, mark: string) => text + mark);
    const steps = [
      chain(add.s(1, 2), add.s(3)),
      chain(add.s(1, 2), add.si(3, 4)),
      // @ts-expect-error add returns a number; shout's first parameter is a string
      chain(add.s(1, 2), shout.s('!')),
      // @ts-expect-error a complete, mutable signature cannot take the previous result
      chain(add.s(1, 2), add.s(3, 4)),
      // @ts-expect-error a chord body takes the list of header results
      chord([add.s(1, 1)], add.s(1)),
    ];
    // @ts-expect-error arguments are checked against the task's parameters
    add.s('one', 2);
    expect(steps.map((step) => step.toJSON().subtask_type)).toEqual([
      'chain',
      'chain',
      'chain',
      'chain',
      'chord',
    ]);
    return app.close();
  });
});

describe('canvas: refusals and wire shapes', () => {
  test('rpc:// refuses a chord before anything is sent', async () => {
    const app = new App({ name: 'rpc-chord', broker: 'memory://', resultBackend: 'memory://' });
    try {
      const add = app.task({ name: 'rpc.add' }, (a: number, b: number) => a + b);
      Object.defineProperty(app, 'chords', { value: undefined });
      Object.defineProperty(app, 'resultBackendName', { value: 'rpc' });
      const body = app.signature('rpc.sum');
      await expect(chord([add.s(1, 1)], body).applyAsync()).rejects.toBeInstanceOf(ChordNotSupportedError);
    } finally {
      await app.close();
    }
  });

  test('a chain, a group and a chord are Celery dicts with their subtask_type', () => {
    const sig = (name: string, ...args: number[]) => new Signature<unknown[], unknown, false>(name, args);
    const asJson = (value: { toJSON(): SignatureDict }) => JSON.parse(JSON.stringify(value)) as SignatureDict;
    expect(asJson(chain(sig('a', 1), sig('b')))).toMatchObject({
      task: 'celery.chain',
      subtask_type: 'chain',
      kwargs: {
        tasks: [
          { task: 'a', args: [1] },
          { task: 'b', args: [] },
        ],
      },
    });
    expect(asJson(group(sig('a'), sig('b')))).toMatchObject({ task: 'celery.group', subtask_type: 'group' });
    expect(asJson(chord([sig('a')], sig('b')))).toMatchObject({
      task: 'celery.chord',
      subtask_type: 'chord',
      kwargs: { header: [{ task: 'a' }], body: { task: 'b' } },
    });
  });
});
