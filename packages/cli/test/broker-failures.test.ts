import { createServer, type Server } from 'node:net';
import { fixture, run, type Finished } from './helpers';

/**
 * Never a silent exit: every command, against a broker it cannot use, ends within its connect timeout
 * with exit code 1 and one line saying what failed, where (password masked) and what to check.
 */
jest.setTimeout(60_000);

const CONNECT_TIMEOUT_S = 2;
const WRONG_PASSWORD = 's3cret-wrong';
/** A "broker" that accepts TCP connections and closes them at once. */
let closer: Server;
let closerPort = 0;

beforeAll(async () => {
  closer = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve));
  closerPort = (closer.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => closer.close(() => resolve())));

const brokers: Array<[string, () => string, RegExp]> = [
  [
    'nothing listens there',
    () => 'amqp://guest:guest@127.0.0.1:1//',
    /amqp:\/\/guest:\*\*\*\*@127\.0\.0\.1:1\/\/.*nothing listens on 127\.0\.0\.1:1 .*is RabbitMQ running/,
  ],
  [
    'the login is refused',
    () => `amqp://guest:${WRONG_PASSWORD}@127.0.0.1:5672//`,
    /BrokerAccessRefusedError: .*guest:\*\*\*\*@127\.0\.0\.1:5672.*login refused for user "guest".*check the user name and password/,
  ],
  [
    'the vhost does not exist',
    () => 'amqp://guest:guest@127.0.0.1:5672/no-such-vhost',
    /BrokerAccessRefusedError: .*vhost "no-such-vhost" refused for user "guest".*check the vhost/,
  ],
  [
    'the server closes the connection',
    () => `amqp://guest:guest@127.0.0.1:${closerPort}//`,
    /closed the connection during the AMQP handshake/,
  ],
];

const commands: Array<[string, string[]]> = [
  ['call', ['call', 'sample.add', '--args', '[2,3]']],
  ['call --wait', ['call', 'sample.add', '--args', '[2,3]', '--wait']],
  ['inspect ping', ['inspect', 'ping']],
  ['status', ['status', '00000000-0000-4000-8000-000000000000']],
];

function expectOneLineFailure(result: Finished, pattern: RegExp): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: \w+Error: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr + result.stdout).not.toContain(WRONG_PASSWORD);
  expect(result.ms).toBeLessThan(CONNECT_TIMEOUT_S * 1000 + 4000);
}

describe.each(brokers)('when %s', (_label, url, pattern) => {
  test.each(commands)('queue %s exits 1 with one line naming the cause', async (_name, args) => {
    const result = await run([...args, '--broker', url(), '--connect-timeout', String(CONNECT_TIMEOUT_S)]);
    expectOneLineFailure(result, pattern);
  });

  test('queue worker exits 1 with one line naming the cause', async () => {
    const result = await run(['worker', '--app', fixture('amqp-app.js')], {
      AMQP_URL: url(),
      QUEUE: 'test.never-declared',
      CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_S * 1000),
    });
    expectOneLineFailure(result, pattern);
  });
});
