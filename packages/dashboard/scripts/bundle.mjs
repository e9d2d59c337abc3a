// Bundles the browser code (client/main.ts and what it imports) into dist/public/app.js, and copies the
// style sheet beside it. One small file each: the page loads nothing from elsewhere.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'public');
mkdirSync(out, { recursive: true });
try {
  await build({
    entryPoints: [join(root, 'client', 'main.ts')],
    outfile: join(out, 'app.js'),
    bundle: true,
    format: 'iife',
    target: ['es2022'],
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'client', 'app.css'), join(out, 'app.css'));
} catch (error) {
  process.stderr.write(`dashboard bundle: ${error.message.split('\n')[0]}\n`);
  process.exit(1);
}
