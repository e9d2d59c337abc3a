#!/usr/bin/env node
import { runCli } from './program';

// Nothing may end this process before the command has an outcome: while it waits for a broker that is
// reconnecting, no socket may be open, and Node would otherwise exit 0 in silence.
const keepAlive = setInterval(() => undefined, 1 << 30);

runCli(process.argv).then(
  (outcome) => {
    if (outcome === 'running') return; // a worker keeps running until a signal (its handlers exit)
    clearInterval(keepAlive);
    process.exit(outcome);
  },
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
