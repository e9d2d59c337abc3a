/**
 * The scenarios, each a function of a session (one system, one repetition), its N and the step's deadline.
 * Every time is taken inside the processes that do the work (epoch ms, the same clock on this machine):
 * starting processes and connecting are never timed.
 */
import { quantile } from '../lib/stats';
import { PeakRssSampler } from '../lib/process-tree';
import type { Child } from './child';
import type { ScenarioId } from './config';
import type { ClientResult } from './protocol';
import type { Session } from './session';

/** The figures of one step; which ones depend on the scenario. */
export interface Figures {
  /** Tasks (or round trips) per second. */
  throughput?: number;
  /** Drain: the worker's peak RSS (its whole process tree), bytes. */
  peakRss?: number;
  p50Ms?: number;
  p99Ms?: number;
}

export interface StepOutcome {
  n: number;
  /** The timed span, ms. */
  durationMs: number;
  figures: Figures;
  detail?: Record<string, number>;
}

export interface Scenario {
  id: ScenarioId;
  /** What it times, in a line (README, JSON). */
  describe: string;
  run(session: Session, n: number, deadline: number): Promise<StepOutcome>;
}

function perSecond(n: number, ms: number): number {
  if (!(ms > 0)) throw new Error(`a timed span of ${ms} ms cannot give a rate`);
  return (n * 1000) / ms;
}

function expectKind<K extends ClientResult['kind']>(
  result: ClientResult,
  kind: K,
): Extract<ClientResult, { kind: K }> {
  if (result.kind !== kind) throw new Error(`expected a "${kind}" result, got "${result.kind}"`);
  return result as Extract<ClientResult, { kind: K }>;
}

/**
 * `clients` enqueue clients sharing `n` sends (started and connected first, then all told to go at once);
 * resolves once every send is confirmed, with the first send and the last confirm of all of them. The clients
 * stay connected: stop them with `session.stopClients`.
 */
async function send(
  session: Session,
  n: number,
  clients: number,
  deadline: number,
): Promise<{ firstSendAt: number; lastConfirmAt: number; children: Child[] }> {
  const inFlight = Math.max(1, Math.round(session.settings.inFlight / clients));
  const children = await session.startClients('enqueue', clients, { n, inFlight, deadline });
  try {
    for (const child of children) child.send({ cmd: 'go' });
    const sent = (await session.results(children, deadline)).map((result) => expectKind(result, 'sent'));
    return {
      firstSendAt: Math.min(...sent.map((s) => s.firstSendAt)),
      lastConfirmAt: Math.max(...sent.map((s) => s.lastConfirmAt)),
      children,
    };
  } catch (error) {
    await session.stopClients(children);
    throw error;
  }
}

/** A running worker told to report the next `n` runs, and `clients` clients sending them; rate of runs. */
async function sendToRunningWorker(session: Session, n: number, clients: number, deadline: number) {
  await session.emptyQueue();
  const worker = await session.ensureWorker(deadline);
  worker.send({ cmd: 'expect', n });
  await worker.next('expecting', deadline);
  const sent = await send(session, n, clients, deadline);
  try {
    const { window } = await worker.next('window', deadline, sent.children);
    const durationMs = window.lastDoneAt - sent.firstSendAt;
    return {
      n,
      durationMs,
      figures: { throughput: perSecond(n, durationMs) },
      detail: {
        sendMs: sent.lastConfirmAt - sent.firstSendAt,
        firstRunAfterMs: window.firstStartAt - sent.firstSendAt,
      },
    };
  } finally {
    await session.stopClients(sent.children);
  }
}

export const SCENARIOS: Record<ScenarioId, Scenario> = {
  enqueue: {
    id: 'enqueue',
    describe: 'N sends, no worker, `in-flight` awaiting their confirm at once: first send to last confirm',
    async run(session, n, deadline) {
      await session.stopWorker();
      await session.emptyQueue();
      const sent = await send(session, n, 1, deadline);
      await session.stopClients(sent.children);
      session.backlog = n; // the drain scenario drains these
      const durationMs = sent.lastConfirmAt - sent.firstSendAt;
      return { n, durationMs, figures: { throughput: perSecond(n, durationMs) } };
    },
  },
  drain: {
    id: 'drain',
    describe:
      "N tasks waiting, then one worker started: its first run's start to its N-th run's end; peak RSS of the worker's processes",
    async run(session, n, deadline): Promise<StepOutcome> {
      await session.stopWorker();
      if (session.backlog !== n) {
        await session.emptyQueue();
        await session.stopClients((await send(session, n, 1, deadline)).children);
        session.backlog = n;
      }
      const worker = session.spawnWorker(n);
      const sampler = worker.pid === undefined ? undefined : new PeakRssSampler(worker.pid);
      let peak;
      let window;
      try {
        await worker.next('ready', deadline);
        window = (await worker.next('window', deadline)).window;
      } finally {
        peak = sampler?.stop();
      }
      session.backlog = 0;
      const durationMs = window.lastDoneAt - window.firstStartAt;
      return {
        n,
        durationMs,
        figures: { throughput: perSecond(n, durationMs), ...(peak ? { peakRss: peak.rss } : {}) },
        ...(peak ? { detail: { processes: peak.processes } } : {}),
      };
    },
  },
  pipeline: {
    id: 'pipeline',
    describe: 'a running worker, one client sending N: first send to the N-th run’s end',
    run: (session, n, deadline) => sendToRunningWorker(session, n, 1, deadline),
  },
  roundtrip: {
    id: 'roundtrip',
    describe: 'N sends each awaiting its result, `rt-in-flight` at once: first send to last result',
    async run(session, n, deadline) {
      await session.emptyQueue();
      await session.ensureWorker(deadline);
      const [client] = await session.startClients('roundtrip', 1, {
        n,
        inFlight: session.settings.rtInFlight,
        deadline,
      });
      try {
        client!.send({ cmd: 'go' });
        const [result] = await session.results([client!], deadline);
        const timed = expectKind(result!, 'roundtrips');
        const durationMs = timed.endedAt - timed.startedAt;
        return { n, durationMs, figures: { throughput: perSecond(n, durationMs) } };
      } finally {
        await session.stopClients([client!]);
      }
    },
  },
  latency: {
    id: 'latency',
    describe: 'N round trips one after the other (send, await the result): p50 and p99',
    async run(session, n, deadline) {
      await session.emptyQueue();
      await session.ensureWorker(deadline);
      const [client] = await session.startClients('latency', 1, { n, inFlight: 1, deadline });
      try {
        client!.send({ cmd: 'go' });
        const [result] = await session.results([client!], deadline);
        const { samplesMs } = expectKind(result!, 'latency');
        return {
          n,
          durationMs: samplesMs.reduce((a, b) => a + b, 0),
          figures: { p50Ms: quantile(samplesMs, 0.5), p99Ms: quantile(samplesMs, 0.99) },
        };
      } finally {
        await session.stopClients([client!]);
      }
    },
  },
  fanin: {
    id: 'fanin',
    describe:
      '`fanin-clients` client processes sending N together (in-flight split between them) to one running worker: first send to the N-th run’s end',
    run: (session, n, deadline) => sendToRunningWorker(session, n, session.settings.faninClients, deadline),
  },
};
