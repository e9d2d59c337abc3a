import { markdownTable } from '../lib/markdown';
import { mb, signed, thinIndices } from '../lib/stats';
import type { Sample } from './protocol';
import {
  endIndex,
  runSamples,
  warmupIndex,
  type CounterCourse,
  type MemoryPoint,
  type SoakSummary,
} from './summary';

/** Short names for the usual handle types, so a table row stays readable. */
const HANDLE_NAMES: Record<string, string> = {
  Timeout: 'Timeout',
  TCPSocketWrap: 'TCP',
  PipeWrap: 'Pipe',
  TTYWrap: 'TTY',
  FSReqCallback: 'FSReq',
  Immediate: 'Immediate',
};

const NOTES: Record<Sample['phase'], string> = {
  start: 'worker started',
  running: '',
  warm: 'warm-up, at rest',
  done: 'all done, at rest',
  closed: 'after app.close()',
};

function handlesText(handles: Record<string, number>): string {
  return Object.entries(handles)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, count]) => `${HANDLE_NAMES[type] ?? type} ${count}`)
    .join(', ');
}

function counter(sample: Sample, name: string): number | undefined {
  return sample.counters[name];
}

function figure(value: number | undefined): string {
  return value === undefined ? '?' : String(value);
}

/** The worker's listeners, and amqplib's (model, connection, socket, channels and their write buffers). */
function listenersText(sample: Sample): string {
  const amqp = [
    'listeners.amqpModel',
    'listeners.amqpConnection',
    'listeners.socket',
    'listeners.amqpChannels',
    'listeners.amqpChannelBuffers',
  ].map((name) => counter(sample, name));
  const amqpTotal = amqp.some((v) => v === undefined)
    ? undefined
    : amqp.reduce<number>((a, v) => a + (v ?? 0), 0);
  return `${figure(counter(sample, 'listeners.worker'))} / ${figure(amqpTotal)} / ${figure(counter(sample, 'listeners.process'))}`;
}

/** The samples as a markdown table, thinned to about `rows` rows (start, warm-up, end and after-close kept). */
export function samplesTable(samples: readonly Sample[], summary: SoakSummary, rows: number): string {
  const run = runSamples(samples);
  const w = warmupIndex(run, summary.warmupTasks);
  const chosen = thinIndices(run.length, rows - 1, w >= 0 ? [w, endIndex(run)] : [endIndex(run)]).map(
    (i) => run[i]!,
  );
  const closed = samples.find((s) => s.phase === 'closed');
  const shown = closed ? [...chosen, closed] : chosen;
  const headers = [
    'tasks done',
    's',
    'rss MB',
    'heapUsed MB',
    'external MB',
    'active handles',
    'channels (ours / amqplib)',
    'holds',
    'listeners (worker / amqp / process)',
    'in flight',
    'note',
  ];
  const body = shown.map((s) => [
    String(s.done),
    (s.elapsedMs / 1000).toFixed(1),
    mb(s.memory.rss),
    mb(s.memory.heapUsed),
    mb(s.memory.external),
    handlesText(s.handles),
    `${figure(counter(s, 'channels.managed'))} / ${figure(counter(s, 'channels.amqplib'))}`,
    figure(counter(s, 'holds')),
    listenersText(s),
    figure(counter(s, 'worker.inFlight')),
    NOTES[s.phase],
  ]);
  return markdownTable(headers, body, new Set([0, 1, 2, 3, 4, 7, 9]));
}

function memoryLine(label: string, p: MemoryPoint | null): string {
  if (!p) return `- ${label}: no sample`;
  return `- ${label}: ${p.done} tasks at ${(p.elapsedMs / 1000).toFixed(1)} s, rss ${p.rssMb.toFixed(1)} MB, heapUsed ${p.heapUsedMb.toFixed(1)} MB, external ${p.externalMb.toFixed(1)} MB`;
}

function perHundredK(value: number | null): string {
  return value === null ? 'n/a' : `${signed(value, 2)} MB per 100k tasks`;
}

function courseCell(value: number | null): string {
  return value === null ? '?' : String(value);
}

function countersTable(counters: readonly CounterCourse[]): string {
  const rows = counters
    .filter((c) =>
      [c.start, c.restAfterWarmup, c.restAtEnd, c.peakToWarmup, c.peakAfterWarmup, c.afterClose].some(
        (v) => v !== null && v !== 0,
      ),
    )
    .map((c) => [
      c.name,
      courseCell(c.start),
      courseCell(c.restAfterWarmup),
      courseCell(c.restAtEnd),
      courseCell(c.peakToWarmup),
      courseCell(c.peakAfterWarmup),
      courseCell(c.afterClose),
      c.grew ? 'GREW' : '',
    ]);
  return markdownTable(
    [
      'counter',
      'start',
      'at rest after warm-up',
      'at rest at end',
      'peak to warm-up',
      'peak after warm-up',
      'after close',
      '',
    ],
    rows,
    new Set([1, 2, 3, 4, 5, 6]),
  );
}

/** The summary: memory at warm-up and end, slopes, throughput, the counters' course, and the verdict lines. */
export function summaryText(summary: SoakSummary, exitedByItself: boolean | undefined): string {
  const growth =
    summary.warmup && summary.end ? `${signed(summary.end.rssMb - summary.warmup.rssMb, 1)} MB` : 'n/a';
  const lines = [
    memoryLine('start', summary.start),
    memoryLine(`warm-up (${summary.warmupTasks} tasks, at rest)`, summary.warmup),
    memoryLine('end (at rest)', summary.end),
    memoryLine('after app.close()', summary.afterClose),
    `- least-squares slope after warm-up: rss ${perHundredK(summary.rssMbPer100k)}, heapUsed ${perHundredK(summary.heapUsedMbPer100k)}, external ${perHundredK(summary.externalMbPer100k)}`,
    `- throughput: ${summary.tasksPerSecond?.toFixed(0) ?? 'n/a'} tasks/s overall, ${summary.tasksPerSecondAfterWarmup?.toFixed(0) ?? 'n/a'} tasks/s after warm-up`,
    `- counters higher at rest at the end than at rest after warm-up: ${summary.grown.length ? summary.grown.join(', ') : 'none'}`,
    ...(summary.unreadable.length
      ? [`- unreadable counters (renamed fields?): ${summary.unreadable.join(', ')}`]
      : []),
    ...(exitedByItself === undefined
      ? []
      : [
          `- worker process after app.close(): ${exitedByItself ? 'exited by itself' : 'did NOT exit by itself (something still holds its event loop; killed)'}`,
        ]),
    '',
    countersTable(summary.counters),
    '',
    `rss growth after warm-up: ${perHundredK(summary.rssMbPer100k)} (end − warm-up: ${growth}); heapUsed ${perHundredK(summary.heapUsedMbPer100k)}`,
  ];
  return lines.join('\n');
}
