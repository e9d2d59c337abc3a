import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, TransportError } from '@queue/core';
import { type AmqpTransport } from '../../src';
import { killProcess, startWorkerProcess, uniqueQueue, waitFor, type FixtureProcess } from '../helpers';
import { checkLedger, LoadClient, resumeTimes, readLedgers, type LedgerEntry } from './fault-kit';

/**
 * A real 3-node RabbitMQ cluster on this machine (scripts/cluster.sh, never the node on 5672): 2,000 tasks
 * on a quorum queue while the node that every client and worker connected to first is killed (`kill -9`
 * of its beam) and brought back. No confirmed task may be lost; clients and workers fail over within
 * seconds through the `;`-separated broker URLs.
 */
jest.setTimeout(300_000);

const clusterScript = join(__dirname, '..', '..', '..', '..', 'scripts', 'cluster.sh');
const TASKS = 2000;

function cluster(...args: string[]): string {
  return execFileSync('bash', [clusterScript, ...args], { encoding: 'utf8', timeout: 240_000 });
}

let brokers = '';
beforeAll(() => {
  brokers = cluster('up').trim().split('\n').at(-1)!.trim();
  expect(brokers.split(';')).toHaveLength(3);
});
afterAll(() => {
  cluster('down');
});

test('a node killed under load: 0 confirmed tasks lost, clients and workers fail over within seconds', async () => {
  const queue = uniqueQueue('cluster');
  const dir = mkdtempSync(join(tmpdir(), 'queue-cluster-test-'));
  const ledgers = [join(dir, 'w1'), join(dir, 'w2')];
  const client = new App({
    name: 'cluster-client',
    broker: brokers,
    resultBackend: 'rpc://',
    defaultQueue: queue,
    setAsCurrent: false,
    transportOptions: { queueType: 'quorum', publishTimeoutMs: 60_000, reconnectMaxDelayMs: 1000 },
  });
  const connection = (client.transport as AmqpTransport).connection;
  const workers: FixtureProcess[] = [];
  let load: LoadClient | undefined;
  try {
    for (const ledger of ledgers) {
      workers.push(
        await startWorkerProcess(queue, 16, { AMQP_URL: brokers, QUEUE_TYPE: 'quorum', LEDGER: ledger }),
      );
    }
    await client.connect();
    expect(connection.currentUrl).toContain(':5681/'); // everyone starts on node 1
    load = new LoadClient(client, 20, TASKS);
    await waitFor(() => load!.confirmed.length >= 400, 60_000);

    const killedAt = Date.now();
    cluster('kill', '1');
    const workerFailover = await resumeTimes(
      load,
      ledgers,
      workers.map((w) => w.child.pid!),
      killedAt,
      60_000,
    );
    await waitFor(() => load!.resumedAfter(killedAt) !== undefined, 60_000);
    const clientFailover = load.resumedAfter(killedAt)!;
    expect(connection.currentUrl).not.toContain(':5681/');

    cluster('start', '1');
    await waitFor(() => load!.sent >= TASKS, 120_000);
    await load.stop();
    for (const error of load.failed) expect(error).toBeInstanceOf(TransportError);

    let runs: LedgerEntry[] = [];
    await waitFor(() => {
      runs = readLedgers(...ledgers);
      return checkLedger(load!.confirmed, runs).lost.length === 0;
    }, 120_000).catch(() => undefined);
    const figures = checkLedger(load.confirmed, runs);
    console.log(
      `cluster failover: ${JSON.stringify({
        sent: load.sent,
        confirmed: figures.confirmed,
        failedSends: load.failed.length,
        ran: figures.ran,
        lost: figures.lost.length,
        duplicated: figures.duplicated,
        workerFailoverMs: workerFailover,
        clientFailoverMs: clientFailover,
      })}`,
    );
    expect(figures.lost).toEqual([]);
    expect(figures.confirmed).toBeGreaterThanOrEqual(TASKS - load.failed.length);
    for (const ms of [...workerFailover, clientFailover]) expect(ms).toBeLessThan(20_000);
    for (const worker of workers) expect(worker.child.exitCode).toBeNull();
  } finally {
    await load?.stop();
    for (const worker of workers) await killProcess(worker);
    await client.close({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  }
});
