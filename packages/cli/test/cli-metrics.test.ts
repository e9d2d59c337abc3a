import { AMQP_URL, deleteQueues, exitOf, fixture, run, startWorker, stopProcess } from './helpers';

/** `queue worker --metrics-port` (the built CLI) on the real RabbitMQ: one task, one scrape, stop by pid. */
jest.setTimeout(60_000);

test('serves /metrics while the worker runs, counting the tasks it ran, and stops with it', async () => {
  const queue = `test.cli.metrics.${process.pid}.${Date.now()}`;
  const hostname = `metrics-${process.pid}@test`;
  // Port 0: the system picks a free one, and the worker prints where it listens.
  const worker = await startWorker(queue, ['-n', hostname, '--metrics-port', '0']);
  try {
    const url = /metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(worker.output())?.[1];
    expect(url).toBeDefined();
    const call = await run(
      ['call', 'cli.add', '--args', '[2, 3]', '-Q', queue, '--wait', '--timeout', '15'],
      {
        AMQP_URL,
      },
    );
    expect(call.code).toBe(0);
    expect(call.stdout.trim()).toBe('5');

    // Counted as the message is settled, just after the caller has the result: scrape until it shows.
    const labels = `worker="${hostname}",task="cli.add"`;
    let text = '';
    for (let tries = 0; tries < 50 && !text.includes(`state="succeeded"} 1`); tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      const response = await fetch(url!);
      expect(response.status).toBe(200);
      text = await response.text();
    }
    expect(text).toContain(`queue_tasks_received_total{${labels}} 1\n`);
    expect(text).toContain(`queue_tasks_total{${labels},state="succeeded"} 1\n`);
    expect(text).toContain(`queue_task_runtime_seconds_count{${labels}} 1\n`);
    expect(text).toContain(`queue_worker_concurrency{worker="${hostname}"} 10\n`);
    expect(text).toContain(`queue_broker_reconnects_total{worker="${hostname}"} 0\n`);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m); // the process's own metrics too

    worker.child.kill('SIGTERM');
    expect(await exitOf(worker.child, 15_000)).toBe(0);
    await expect(fetch(url!)).rejects.toThrow(); // nothing listens any more
  } finally {
    await stopProcess(worker.child);
    await deleteQueues(queue);
  }
});

test('a metrics port in use fails the start with one line, before consuming', async () => {
  const queue = `test.cli.metrics-busy.${process.pid}.${Date.now()}`;
  const worker = await startWorker(queue, ['-n', `busy-${process.pid}@test`, '--metrics-port', '0']);
  try {
    const port = /metrics: http:\/\/127\.0\.0\.1:(\d+)\//.exec(worker.output())![1]!;
    const second = await run(['worker', '--app', fixture('amqp-app.js'), '--metrics-port', port], {
      AMQP_URL,
      QUEUE: queue,
    });
    expect(second.code).toBe(1);
    expect(second.stderr.trim().split('\n')).toEqual([
      `error: MetricsServerError: cannot serve metrics on 127.0.0.1:${port}: EADDRINUSE`,
    ]);
    const bad = await run(['worker', '--app', 'x.js', '--metrics-port', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--metrics-port.*must be a port/);
  } finally {
    await stopProcess(worker.child);
    await deleteQueues(queue);
  }
});
