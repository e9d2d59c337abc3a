#!/usr/bin/env node
// The `queue` command. A committed stub rather than dist/bin.js itself: pnpm and npm link a bin only if its
// file exists at install time, and in a fresh checkout dist/ appears only with the first build.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'bin.js');
if (!existsSync(main)) {
  process.stderr.write(`queue: ${main} is missing: build @queue/cli first (npm run build)\n`);
  process.exit(1);
}
require(main);
