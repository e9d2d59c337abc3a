import { app } from './app';
import { add, Manual, ping } from './tasks';

/**
 * The runnable tour of the seed: a worker in this process (on RabbitMQ, run it as its own process later
 * with `queue worker`), then `ping` sent and called directly, and `manual` reporting its progress.
 */
async function main(): Promise<void> {
  const worker = app.worker({ concurrency: 4 });
  await worker.start();
  console.log(`hello_celery: broker ${app.transport.displayUrl}, queue ${app.defaultQueue}`);

  console.log(`ping() called directly → ${await ping()}`);
  const pong = await ping.delay();
  console.log(`ping.delay() → task ${pong.id} → ${await pong.get({ timeout: 10 })}`);

  const sum = await add.delay(2, 3);
  console.log(`sample.add(2, 3) → ${await sum.get({ timeout: 10 })}`);

  const manual = await Manual.delay(1);
  for await (const change of manual) {
    if (change.state === 'PROGRESS') {
      const percent = (change.info as { percent: number }).percent;
      const bar = `manual(1): ${'#'.repeat(percent / 4).padEnd(25, '.')} ${percent}%`;
      if (process.stdout.isTTY) process.stdout.write(`\r${bar}`);
      else if (percent % 20 === 0) console.log(bar);
    } else {
      console.log(
        `${process.stdout.isTTY ? '\n' : ''}manual(1): ${change.state} ${JSON.stringify(change.info)}`,
      );
    }
  }
  await app.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
