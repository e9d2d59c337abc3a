#!/usr/bin/env node
import { runCli } from './program';

runCli(process.argv).then(
  (outcome) => {
    if (outcome !== 'running') process.exit(outcome); // a worker keeps running until a signal
  },
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
