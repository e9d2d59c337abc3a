import { lineChart, updateChart, type ChartOptions, type Series } from '../charts';
import { fill, h, setText } from '../dom';
import { count, duration } from '../format';
import type { Store } from '../store';
import { stateBadge } from '../widgets';

const STATES = ['PENDING', 'RECEIVED', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'];

function card(label: string, id: string): HTMLElement {
  return h(
    'div',
    { class: 'card stat' },
    h('span', { class: 'stat-label' }, label),
    h('span', { class: 'stat-value', id }, '—'),
  );
}

/** The landing page: fleet totals, tasks by state, and succeeded/failed per second over the window. */
export function overviewView(root: HTMLElement, store: Store): () => void {
  // Seconds shown: the whole window (15 min) or a zoom on the last minutes.
  let shown = store.info?.throughputWindow ?? 900;
  const chartOptions = (): ChartOptions => ({
    title: 'Succeeded and failed tasks per second',
    from: `−${duration(Math.min(shown, store.throughput.succeeded.length || shown))}`,
    to: 'now',
    area: true,
    unit: '/s',
  });
  const series = (): Series[] => [
    { label: 'succeeded', className: 'series-ok', values: store.throughput.succeeded.slice(-shown) },
    { label: 'failed', className: 'series-fail', values: store.throughput.failed.slice(-shown) },
  ];
  const windows: Array<[number, string]> = [
    [60, '1 min'],
    [300, '5 min'],
    [store.info?.throughputWindow ?? 900, duration(store.info?.throughputWindow ?? 900)],
  ];
  const zoom = h('div', { class: 'segmented', role: 'group', 'aria-label': 'chart window' });
  const zoomButtons = windows.map(([seconds, label]) => {
    const button = h(
      'button',
      { type: 'button', 'data-window': seconds, 'aria-pressed': String(seconds === shown) },
      label,
    );
    button.addEventListener('click', () => {
      shown = seconds;
      for (const other of zoomButtons) other.setAttribute('aria-pressed', String(other === button));
      renderThroughput();
    });
    return button;
  });
  zoom.append(...zoomButtons);
  const chart = lineChart(series(), chartOptions());
  chart.id = 'throughput-chart';
  const byState = h('div', { class: 'state-counts' });
  fill(
    root,
    h('h1', {}, 'Overview'),
    h(
      'div',
      { class: 'stats' },
      card('Workers online', 'stat-workers'),
      card('Tasks running', 'stat-running'),
      card(`Succeeded (${duration(store.info?.throughputWindow ?? 900)})`, 'stat-succeeded'),
      card(`Failed (${duration(store.info?.throughputWindow ?? 900)})`, 'stat-failed'),
      card('Messages queued', 'stat-queued'),
    ),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Throughput'), zoom), chart),
    h('section', { class: 'card' }, h('h2', {}, 'Tasks by state'), byState),
  );

  const renderCounts = () => {
    const online = store.workers.filter((worker) => worker.online).length;
    setText(root.querySelector('#stat-workers')!, `${online} / ${store.workers.length}`);
    const queued = store.queues.reduce((sum, queue) => sum + (queue.messages ?? 0), 0);
    setText(root.querySelector('#stat-queued')!, count(queued));
  };
  const renderTasks = () => {
    const states = new Map<string, number>();
    for (const task of store.tasks.values()) states.set(task.state, (states.get(task.state) ?? 0) + 1);
    setText(root.querySelector('#stat-running')!, count(states.get('STARTED') ?? 0));
    const shown = [...STATES, ...[...states.keys()].filter((state) => !STATES.includes(state))];
    fill(
      byState,
      ...shown.map((state) =>
        h(
          'a',
          { class: 'state-count', href: `#/tasks?state=${encodeURIComponent(state)}` },
          stateBadge(state),
          h('span', { class: 'num' }, count(states.get(state) ?? 0)),
        ),
      ),
    );
  };
  const renderThroughput = () => {
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    setText(root.querySelector('#stat-succeeded')!, count(sum(store.throughput.succeeded)));
    setText(root.querySelector('#stat-failed')!, count(sum(store.throughput.failed)));
    updateChart(chart, series(), chartOptions());
  };

  // Task counts are recomputed at most once a second: 10,000 tasks are cheap, but not at every event.
  let tasksDirty = true;
  const timer = window.setInterval(() => {
    if (tasksDirty) renderTasks();
    tasksDirty = false;
  }, 1000);
  renderCounts();
  renderTasks();
  renderThroughput();
  const offs = [
    store.on('workers', renderCounts),
    store.on('queues', renderCounts),
    store.on('tasks', () => (tasksDirty = true)),
    store.on('throughput', renderThroughput),
    store.on('info', () => {
      renderCounts();
      renderTasks();
      renderThroughput();
    }),
  ];
  return () => {
    window.clearInterval(timer);
    for (const off of offs) off();
  };
}
