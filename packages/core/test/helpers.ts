import { Writable } from 'node:stream';
import winston from 'winston';
import { App, configureLogging, type AppOptions } from '@queue/core';

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

/** A log line as the JSON format writes it. */
export type LogLine = Record<string, unknown> & { level: string; message: string };

/** Sends every log line at `level` or above, as JSON, into the returned array (until `configureLogging` again). */
export function captureLogs(level: 'debug' | 'info' | 'warn' = 'info'): LogLine[] {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as LogLine);
      done();
    },
  });
  configureLogging({ level, format: 'json', transports: [new winston.transports.Stream({ stream: sink })] });
  return lines;
}
