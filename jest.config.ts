import type { Config } from 'jest';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every package and app with a `test/` folder is a jest project, and so is `bench/` (its smoke test runs the
 * built bench/dist in a child process); `@queue/*` resolves to sources, so tests need no build. Tests under
 * `test/broker-faults/` stop, block or cluster RabbitMQ: they would break any test running beside them, so
 * they form a suite of their own (`QUEUE_TEST_SUITE=broker-faults`, run in band after the others by
 * scripts/test.sh).
 */
const brokerFaults = process.env.QUEUE_TEST_SUITE === 'broker-faults';
const roots = [
  ...['packages', 'apps'].flatMap((dir) =>
    existsSync(join(__dirname, dir))
      ? readdirSync(join(__dirname, dir)).map((name) => join(__dirname, dir, name))
      : [],
  ),
  join(__dirname, 'bench'),
];

const config: Config = {
  projects: roots
    .filter((root) => existsSync(join(root, 'test')))
    .map((root) => ({
      displayName: root.slice(__dirname.length + 1),
      rootDir: root,
      testEnvironment: 'node',
      testMatch: [brokerFaults ? '<rootDir>/test/broker-faults/**/*.test.ts' : '<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/', ...(brokerFaults ? [] : ['/test/broker-faults/'])],
      moduleNameMapper: {
        '^@queue/([^/]+)$': join(__dirname, 'packages/$1/src/index.ts'),
        '^@queue/([^/]+)/(transport|testing|metrics)$': join(__dirname, 'packages/$1/src/$2/index.ts'),
      },
      setupFiles: [join(__dirname, 'scripts/jest-setup.ts')],
      transform: {
        '^.+\\.ts$': ['ts-jest', { tsconfig: join(__dirname, 'tsconfig.json') }],
      },
    })),
};

export default config;
