import type { WorkerView } from '../../src/wire';
import { resizePool, shutdownWorker } from '../api';
import { fill, h, setText } from '../dom';
import { ago, count, duration } from '../format';
import type { Store } from '../store';
import { runAction } from '../widgets';

const COLUMNS = ['Worker', 'Software', 'Pool', 'Active', 'Processed', 'Load', 'Last heartbeat', 'Queues', ''];

/** One row, kept across updates so that buttons are not replaced under the pointer. */
interface Row {
  tr: HTMLTableRowElement;
  cells: Record<
    'status' | 'software' | 'pool' | 'active' | 'processed' | 'load' | 'heartbeat' | 'queues',
    HTMLElement
  >;
  buttons: HTMLButtonElement[];
  worker: WorkerView;
}

function softwareLabel(worker: WorkerView): string {
  const version = worker.swVer ? ` ${worker.swVer}` : '';
  return worker.swIdent ? `${worker.swIdent}${version}` : 'unknown';
}

function poolLabel(worker: WorkerView): string {
  const kind = worker.pool ?? '?';
  return worker.concurrency === null ? kind : `${kind} × ${worker.concurrency}`;
}

function heartbeatLabel(worker: WorkerView): string {
  if (worker.lastHeartbeat !== null) return ago(worker.lastHeartbeat);
  if (worker.lastReply !== null) return `none (answered ${ago(worker.lastReply)})`;
  return '—';
}

function makeRow(worker: WorkerView): Row {
  const hostname = worker.hostname;
  const cell = (className = '') => h('td', { class: className });
  const cells = {
    status: h('span', { class: 'status' }),
    software: h('span', { class: 'sw' }),
    pool: cell(),
    active: cell('num'),
    processed: cell('num'),
    load: cell('num'),
    heartbeat: cell(),
    queues: h('span', { class: 'queues' }),
  };
  const button = (
    label: string,
    title: string,
    onClick: (button: HTMLButtonElement) => void,
    danger = false,
  ) => {
    const element = h('button', { type: 'button', class: danger ? 'danger small' : 'small', title }, label);
    element.addEventListener('click', () => onClick(element));
    return element;
  };
  const buttons = [
    button('Pool −1', 'shrink the pool by one', (b) => void runAction(b, () => resizePool(hostname, -1))),
    button('Pool +1', 'grow the pool by one', (b) => void runAction(b, () => resizePool(hostname, 1))),
    button(
      'Shut down',
      'warm shutdown: running tasks finish first',
      (b) => {
        if (window.confirm(`Shut down ${hostname}? Running tasks finish first.`))
          void runAction(b, () => shutdownWorker(hostname));
      },
      true,
    ),
  ];
  const tr = h(
    'tr',
    { 'data-hostname': hostname },
    h(
      'td',
      { class: 'worker-name' },
      cells.status,
      h('a', { href: `#/tasks?worker=${encodeURIComponent(hostname)}`, title: 'its tasks' }, hostname),
    ),
    h('td', {}, cells.software),
    cells.pool,
    cells.active,
    cells.processed,
    cells.load,
    cells.heartbeat,
    h('td', {}, cells.queues),
    h('td', {}, h('span', { class: 'actions' }, ...buttons)),
  );
  return { tr, cells, buttons, worker };
}

function updateRow(row: Row, worker: WorkerView): void {
  row.worker = worker;
  const { cells } = row;
  row.tr.dataset.online = String(worker.online);
  cells.status.dataset.online = String(worker.online);
  cells.status.title = worker.online ? 'online' : 'offline';
  setText(cells.status, worker.online ? 'online' : 'offline');
  setText(cells.software, softwareLabel(worker));
  cells.software.dataset.sw = worker.swIdent ?? '';
  cells.software.title = [worker.swSys, worker.pid === null ? '' : `pid ${worker.pid}`]
    .filter(Boolean)
    .join(', ');
  setText(cells.pool, poolLabel(worker));
  cells.pool.title =
    worker.uptime === null ? '' : `up ${duration(worker.uptime)}, prefetch ${worker.prefetch ?? '?'}`;
  setText(cells.active, count(worker.active));
  setText(cells.processed, count(worker.processed));
  // The 1-minute load; the 5- and 15-minute ones in the tooltip.
  setText(cells.load, worker.loadavg?.length ? worker.loadavg[0]!.toFixed(2) : '—');
  cells.load.title = worker.loadavg
    ? `load average (1, 5, 15 min): ${worker.loadavg.map((load) => load.toFixed(2)).join(', ')}`
    : '';
  setText(cells.heartbeat, heartbeatLabel(worker));
  setText(cells.queues, worker.queues.join(', ') || '—');
  cells.queues.title = `${worker.registered.length} registered tasks:\n${worker.registered.join('\n')}`;
  for (const button of row.buttons) button.hidden = !worker.online;
}

/** Every worker, online or not, with its software, pool and load, and buttons to resize or stop it. */
export function workersView(root: HTMLElement, store: Store): () => void {
  const tbody = h('tbody', { id: 'workers' });
  const empty = h(
    'p',
    { class: 'muted', id: 'no-workers' },
    'No worker seen yet. Workers appear when they send a heartbeat or answer an inspection.',
  );
  fill(
    root,
    h('h1', {}, 'Workers'),
    h(
      'div',
      { class: 'card table-card' },
      h(
        'table',
        { class: 'table' },
        h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', {}, c)))),
        tbody,
      ),
    ),
    empty,
  );
  const rows = new Map<string, Row>();
  const render = () => {
    const seen = new Set<string>();
    for (const worker of store.workers) {
      seen.add(worker.hostname);
      let row = rows.get(worker.hostname);
      if (!row) {
        row = makeRow(worker);
        rows.set(worker.hostname, row);
      }
      updateRow(row, worker);
    }
    for (const [hostname, row] of rows) {
      if (seen.has(hostname)) continue;
      row.tr.remove();
      rows.delete(hostname);
    }
    // Online first, then by name; rows are moved, not rebuilt.
    const ordered = [...rows.values()].sort(
      (a, b) =>
        Number(b.worker.online) - Number(a.worker.online) ||
        a.worker.hostname.localeCompare(b.worker.hostname),
    );
    ordered.forEach((row, index) => {
      if (tbody.children[index] !== row.tr) tbody.insertBefore(row.tr, tbody.children[index] ?? null);
    });
    empty.hidden = rows.size > 0;
  };
  render();
  const off = store.on('workers', render);
  // "3 s ago" moves on by itself.
  const timer = window.setInterval(() => {
    for (const row of rows.values()) setText(row.cells.heartbeat, heartbeatLabel(row.worker));
  }, 1000);
  return () => {
    off();
    window.clearInterval(timer);
  };
}
