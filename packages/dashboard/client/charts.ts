import { fill, h, s } from './dom';

/** One line of a chart. */
export interface Series {
  label: string;
  /** A CSS class giving its colour (`series-ok`, `series-fail`, …). */
  className: string;
  /** Oldest first, one per step; null: no value (a gap). */
  values: Array<number | null>;
}

export interface ChartOptions {
  /** Accessible name of the chart. */
  title: string;
  /** Text under the left and right ends of the x axis. */
  from: string;
  to: string;
  /** Fill under the lines. */
  area?: boolean;
  /** Shown after the y axis' top value (`/s`). */
  unit?: string;
}

/** A round top for the y axis, so the grid reads 5, 10, 50, … rather than 7.3. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

function points(values: Array<number | null>, max: number): string[] {
  // Runs of values without gaps, each drawn as one polyline.
  const runs: string[] = [];
  let current: string[] = [];
  values.forEach((value, index) => {
    if (value === null) {
      if (current.length > 0) runs.push(current.join(' '));
      current = [];
      return;
    }
    current.push(`${index},${(100 - (value / max) * 100).toFixed(2)}`);
  });
  if (current.length > 0) runs.push(current.join(' '));
  return runs;
}

/**
 * A line chart in plain SVG: the drawing stretches to its box (viewBox width = number of steps, height
 * 100) with strokes that do not scale; labels are HTML around it so text never stretches.
 */
export function lineChart(series: Series[], options: ChartOptions): HTMLElement {
  const chart = h('figure', { class: 'chart', role: 'img', 'aria-label': options.title });
  updateChart(chart, series, options);
  return chart;
}

/** Redraws a chart made by `lineChart` with new values. */
export function updateChart(chart: HTMLElement, series: Series[], options: ChartOptions): void {
  const steps = Math.max(2, ...series.map((line) => line.values.length));
  const highest = Math.max(0, ...series.flatMap((line) => line.values.map((value) => value ?? 0)));
  const max = niceMax(highest);
  const svg = s('svg', { viewBox: `0 0 ${steps - 1} 100`, preserveAspectRatio: 'none', class: 'chart-svg' });
  for (const y of [25, 50, 75]) svg.append(s('line', { x1: 0, x2: steps - 1, y1: y, y2: y, class: 'grid' }));
  for (const line of series) {
    for (const run of points(line.values, max)) {
      if (options.area) {
        const first = run.split(' ')[0]!.split(',')[0];
        const last = run.split(' ').at(-1)!.split(',')[0];
        svg.append(
          s('polygon', { points: `${first},100 ${run} ${last},100`, class: `area ${line.className}` }),
        );
      }
      svg.append(s('polyline', { points: run, class: `line ${line.className}` }));
    }
  }
  const legend = h(
    'figcaption',
    { class: 'legend' },
    ...series.map((line) => h('span', { class: `key ${line.className}` }, line.label)),
  );
  fill(
    chart,
    h(
      'div',
      { class: 'chart-body' },
      h('span', { class: 'y-max' }, `${max}${options.unit ?? ''}`),
      h('span', { class: 'y-zero' }, '0'),
      svg,
    ),
    h('div', { class: 'x-axis' }, h('span', {}, options.from), h('span', {}, options.to)),
    legend,
  );
}
