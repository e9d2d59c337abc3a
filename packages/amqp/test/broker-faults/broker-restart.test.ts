import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransportError } from '@queue/core';
import { BrokerUnavailableError, type AmqpTransport } from '../../src';
import {
  amqpApp,
  BrokerAdmin,
  killProcess,
  spawnNode,
  startWorkerProcess,
  uniqueQueue,
  waitFor,
  type FixtureProcess,
} from '../helpers';
import {
  checkLedger,
  LoadClient,
  resumeTimes,
  readLedgers,
  restoreBroker,
  startBroker,
  stopBroker,
  type LedgerEntry,
} from './fault-kit';

/**
 * RabbitMQ restarted twice (`stop_app`, 3 s, `start_app`) while a client sends and two workers consume: one
 * embedded in a plain script, one started by `queue worker`. Every confirmed send runs, sends during the
 * outage wait and succeed (or fail with a typed error), both workers consume again soon after the broker is
 * back, and a result round trip works afterwards.
 */
jest.setTimeout(240_000);

const cliBin = join(__dirname, '..', '..', '..', 'cli', 'dist', 'bin.js');
const ledgerApp = join(__dirname, '..', 'fixtures', 'ledger-app.js');
const OUTAGE_MS = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `queue worker --app ledger-app.js`, resolved once it prints that it is ready. */
async function startCliWorker(queue: string, ledger: string): Promise<FixtureProcess> {
  const worker = spawnNode([cliBin, 'worker', '--app', ledgerApp, '-c', '8', '-l', 'warn'], {
    QUEUE: queue,
    LEDGER: ledger,
  });
  await waitFor(() => {
    if (worker.child.exitCode !== null) throw new Error(`queue worker exited:\n${worker.output()}`);
    return /ready\./.test(worker.output());
  }, 20_000);
  return worker;
}

test('two broker restarts under load: nothing confirmed is lost, workers resume within 5 s', async () => {
  const queue = uniqueQueue('restart');
  const dir = mkdtempSync(join(tmpdir(), 'queue-restart-'));
  const ledgers = [join(dir, 'embedded'), join(dir, 'cli')];
  const caller = amqpApp(queue, { transportOptions: { publishTimeoutMs: 30_000 } });
  let embedded: FixtureProcess | undefined;
  let cli: FixtureProcess | undefined;
  let load: LoadClient | undefined;
  try {
    embedded = await startWorkerProcess(queue, 8, { LEDGER: ledgers[0]! });
    cli = await startCliWorker(queue, ledgers[1]!);
    const pids = [embedded.child.pid!, cli.child.pid!];
    load = new LoadClient(caller, 10, 4000);
    const resumed: number[][] = [];
    const backs: number[] = [];
    for (let restart = 1; restart <= 2; restart++) {
      const before = load.confirmed.length;
      await waitFor(() => load!.confirmed.length >= before + 300, 60_000);
      stopBroker();
      await sleep(OUTAGE_MS);
      const back = startBroker();
      backs.push(back);
      resumed.push(await resumeTimes(load, ledgers, pids, back, 30_000));
      expect(embedded.child.exitCode).toBeNull();
      expect(cli.child.exitCode).toBeNull();
    }
    await load.stop();
    // Every send ended: confirmed, or rejected with a typed error (none vanished, none pending).
    for (const error of load.failed) {
      expect(error).toBeInstanceOf(TransportError);
    }
    let runs: LedgerEntry[] = [];
    await waitFor(() => {
      runs = readLedgers(...ledgers);
      return checkLedger(load!.confirmed, runs).lost.length === 0;
    }, 90_000).catch(() => undefined);
    const figures = checkLedger(load.confirmed, runs);
    const roundTrip = await caller.sendTask('it.slow', [4242, 1]);
    // Sent at once after the broker's return: it waits for the reply queue to be declared again.
    await expect(roundTrip.get({ timeout: 20 })).resolves.toBe(4242);
    console.log(
      `broker restart: ${JSON.stringify({
        sent: load.sent,
        confirmed: figures.confirmed,
        failedSends: load.failed.length,
        failedUnavailable: load.failed.filter((e) => e instanceof BrokerUnavailableError).length,
        ran: figures.ran,
        lost: figures.lost.length,
        duplicated: figures.duplicated,
        resumeMs: resumed,
        clientResumeMs: backs.map((back) => load!.resumedAfter(back)),
      })}`,
    );
    expect(figures.lost).toEqual([]);
    expect((caller.transport as AmqpTransport).connection.generation).toBe(3); // reconnected twice
    expect(load.confirmed.length).toBeGreaterThan(600);
    for (const times of resumed) for (const ms of times) expect(ms).toBeLessThan(5000);
  } finally {
    await load?.stop();
    restoreBroker();
    await killProcess(embedded);
    await killProcess(cli);
    await caller.close({ timeoutMs: 1000 });
    const admin = await BrokerAdmin.open();
    await admin.cleanup(queue);
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
