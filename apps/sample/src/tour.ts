import { TimeoutError } from '@queue/core';
import { add, ping } from './tasks';

/** Seconds to wait for a worker in the tour (with RabbitMQ there may be none running yet). */
const WAIT_SECONDS = 10;

/** The seed's calls, printed to the console: `ping` run directly and sent, and a task with arguments. */
export async function tour(): Promise<void> {
  try {
    console.log(`ping() called directly → ${await ping()}`);
    const pong = await ping.delay();
    console.log(`ping.delay() → task ${pong.id} → ${await pong.get({ timeout: WAIT_SECONDS })}`);
    const sum = await add.delay(2, 3);
    console.log(`sample.add(2, 3) → ${await sum.get({ timeout: WAIT_SECONDS })}`);
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    console.log(
      `no worker answered within ${WAIT_SECONDS}s: start one with \`queue worker --app apps/sample/dist/worker.js\``,
    );
  }
}
