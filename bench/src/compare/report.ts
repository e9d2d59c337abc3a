import { markdownTable } from '../lib/markdown';
import { MB, median } from '../lib/stats';
import { stepN, type CompareConfig, type ScenarioId } from './config';
import type { StepRecord } from './runner';
import type { Figures } from './scenarios';
import type { SystemId, SystemSpec } from './systems';

/** The system every figure is divided by. */
export const BASELINE: SystemId = 'raw';

interface Column {
  header: string;
  scenario: ScenarioId;
  figure: keyof Figures;
  format: (value: number) => string;
}

function rate(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 1_000) return `${(value / 1000).toFixed(2)}k`;
  return value.toFixed(0);
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

function count(value: number): string {
  return value >= 1000 && value % 1000 === 0 ? `${value / 1000}k` : String(value);
}

function columns(faninClients: number): Column[] {
  return [
    { header: 'enqueue /s', scenario: 'enqueue', figure: 'throughput', format: rate },
    { header: 'drain /s', scenario: 'drain', figure: 'throughput', format: rate },
    { header: 'drain peak RSS MB', scenario: 'drain', figure: 'peakRss', format: (v) => (v / MB).toFixed(0) },
    { header: 'pipeline /s', scenario: 'pipeline', figure: 'throughput', format: rate },
    { header: 'round trip /s', scenario: 'roundtrip', figure: 'throughput', format: rate },
    { header: 'latency p50 ms', scenario: 'latency', figure: 'p50Ms', format: ms },
    { header: 'latency p99 ms', scenario: 'latency', figure: 'p99Ms', format: ms },
    { header: `fan-in ${faninClients}→1 /s`, scenario: 'fanin', figure: 'throughput', format: rate },
  ];
}

/** One figure of one system over the repetitions. */
export interface Aggregate {
  system: SystemId;
  scenario: ScenarioId;
  figure: keyof Figures;
  values: number[];
  median: number | null;
  min: number | null;
  max: number | null;
  /** median / the baseline's median in this run (null without both). */
  ratio: number | null;
  /** Steps that did not succeed, with their reasons. */
  notOk: Array<{ rep: number; status: StepRecord['status']; reason: string }>;
}

export function aggregate(
  steps: readonly StepRecord[],
  systems: readonly SystemSpec[],
  scenarios: readonly ScenarioId[],
  faninClients: number,
): Aggregate[] {
  const cols = columns(faninClients).filter((c) => scenarios.includes(c.scenario));
  const rows: Aggregate[] = [];
  for (const system of systems)
    for (const column of cols) {
      const mine = steps.filter((s) => s.system === system.id && s.scenario === column.scenario);
      const values = mine
        .map((s) => s.figures?.[column.figure])
        .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      rows.push({
        system: system.id,
        scenario: column.scenario,
        figure: column.figure,
        values,
        median: median(values) ?? null,
        min: values.length ? Math.min(...values) : null,
        max: values.length ? Math.max(...values) : null,
        ratio: null,
        notOk: mine
          .filter((s) => s.status !== 'ok')
          .map((s) => ({ rep: s.rep, status: s.status, reason: s.reason ?? '' })),
      });
    }
  for (const row of rows) {
    const base = rows.find(
      (r) => r.system === BASELINE && r.scenario === row.scenario && r.figure === row.figure,
    );
    if (row.median !== null && base?.median) row.ratio = row.median / base.median;
  }
  return rows;
}

/** `20k; roundtrip 10k; latency 500`: the most common N of a system, then the others by scenario. */
function nText(config: CompareConfig, system: SystemSpec, scenarios: readonly ScenarioId[]): string {
  const ns = scenarios.map((scenario) => ({ scenario, n: stepN(config, system.tier, scenario) }));
  const tally = new Map<number, number>();
  for (const { n } of ns) tally.set(n, (tally.get(n) ?? 0) + 1);
  const common = [...tally.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (common === undefined) return '';
  const others = ns.filter(({ n }) => n !== common).map(({ scenario, n }) => `${scenario} ${count(n)}`);
  return [count(common), ...others].join('; ');
}

export interface Report {
  table: string;
  notes: string[];
}

/**
 * The markdown table: a row per system, a column per figure; each cell is the median over the repetitions,
 * (min–max) when there are several, and the ratio to raw amqplib's median in the same run. Steps that did not
 * succeed are footnoted with their reason.
 */
export function renderReport(
  config: CompareConfig,
  steps: readonly StepRecord[],
  systems: readonly SystemSpec[],
  scenarios: readonly ScenarioId[],
): Report {
  const cols = columns(config['fanin-clients']).filter((c) => scenarios.includes(c.scenario));
  const rows = aggregate(steps, systems, scenarios, config['fanin-clients']);
  const notes: string[] = [];
  const noteIndex = new Map<string, number>();
  const footnote = (text: string) => {
    let index = noteIndex.get(text);
    if (index === undefined) {
      notes.push(text);
      index = notes.length;
      noteIndex.set(text, index);
    }
    return index;
  };
  const body = systems.map((system) => {
    const cells = cols.map((column) => {
      const row = rows.find(
        (r) => r.system === system.id && r.scenario === column.scenario && r.figure === column.figure,
      )!;
      const marks = [
        ...new Set(
          row.notOk.map((bad) =>
            footnote(`${system.label}, ${column.scenario}: ${bad.status}: ${bad.reason}`),
          ),
        ),
      ].map((i) => `[${i}]`);
      if (system.only && !system.only.includes(column.scenario)) return '—';
      if (row.median === null) {
        const status = row.notOk[0]?.status ?? 'failed';
        return `${status} ${marks.join('')}`.trim();
      }
      let text = column.format(row.median);
      if (row.values.length > 1) text += ` (${column.format(row.min!)}–${column.format(row.max!)})`;
      if (row.ratio !== null) text += ` ${row.ratio >= 10 ? row.ratio.toFixed(1) : row.ratio.toFixed(2)}×`;
      if (marks.length)
        text += ` ${row.values.length}/${row.values.length + row.notOk.length} ok ${marks.join('')}`;
      return text;
    });
    return [system.label, nText(config, system, scenarios), ...cells];
  });
  const headers = ['system', 'N', ...cols.map((c) => c.header)];
  const right = new Set(cols.map((_, i) => i + 2));
  return { table: markdownTable(headers, body, right), notes };
}
