import {
  AMQP_URL,
  deleteQueues,
  fixture,
  run,
  startWorker,
  stopProcess,
  type RunningWorker,
} from './helpers';

/** `--app` loads an ES module with top-level await (require() refuses those), for the worker and for call. */
jest.setTimeout(60_000);

test('a worker and a call load an ESM app with top-level await', async () => {
  const queue = `test.cli-esm.${process.pid}.${Date.now()}`;
  let worker: RunningWorker | undefined;
  try {
    worker = await startWorker(queue, ['-c', '1'], {}, 'esm-tla-app.mjs');
    expect(worker.output()).toContain('esm.shout');
    const called = await run(
      [
        'call',
        'esm.shout',
        '--app',
        fixture('esm-tla-app.mjs'),
        '--args',
        '["hi"]',
        '--wait',
        '--timeout',
        '15',
      ],
      { AMQP_URL, QUEUE: queue },
    );
    expect({ code: called.code, stdout: called.stdout.trim() }).toEqual({ code: 0, stdout: '"HI!"' });
  } finally {
    await stopProcess(worker?.child);
    await deleteQueues(queue);
  }
});
