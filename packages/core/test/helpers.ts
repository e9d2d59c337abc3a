import { App, type AppOptions } from '@queue/core';

let counter = 0;

/** A fresh App on a private in-memory broker, with a queue name unique to the test. */
export function testApp(options: Partial<AppOptions> = {}): App {
  counter += 1;
  return new App({ name: `test-${counter}`, defaultQueue: `q-${counter}`, ...options });
}

/** Polls until `predicate` holds; fails after `timeoutMs` (bounded, no open-ended waits). */
export async function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
