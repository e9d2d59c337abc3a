import { spawn } from 'node:child_process';
import { join } from 'node:path';

jest.setTimeout(60_000);

/** `npm start` with an AMQP_URL that cannot be used: one line saying why, exit 1, never a silent exit. */
test('the sample with an unreachable AMQP_URL exits 1 with one line naming the broker', async () => {
  const main = join(__dirname, '..', 'dist', 'main.js');
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:1//',
      AMQP_CONNECT_TIMEOUT: '2',
      PORT: '0',
      LOG_LEVEL: 'error',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  expect(code).toBe(1);
  expect(stderr.trim().split('\n')).toEqual([
    expect.stringMatching(
      /^error: BrokerUnavailableError: could not connect to amqp:\/\/guest:\*\*\*\*@127\.0\.0\.1:1\/\/ within 2000 ms: .*is RabbitMQ running/,
    ),
  ]);
  expect(stdout).not.toMatch(/ready/);
});
