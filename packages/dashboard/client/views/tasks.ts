import type { TaskSummary } from '../../src/wire';
import { fill, h, setText } from '../dom';
import { clock, count, duration, now } from '../format';
import type { Store } from '../store';
import { progressBar, setProgress } from '../widgets';

/** Row height in pixels (CSS `.vrow` agrees); rows are positioned by index × this. */
const ROW_HEIGHT = 36;
/** Rows rendered above and below the visible ones, so fast scrolling shows no blank. */
const OVERSCAN = 8;
const STATES = ['PENDING', 'RECEIVED', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED'];
const TIMES: Array<[string, string]> = [
  ['', 'any time'],
  ['60', 'last minute'],
  ['300', 'last 5 minutes'],
  ['900', 'last 15 minutes'],
  ['3600', 'last hour'],
];
const COLUMNS = ['State', 'Name', 'Task id', 'Arguments', 'Worker', 'Received', 'Runtime', 'Progress'];

interface Filters {
  q: string;
  state: string;
  name: string;
  worker: string;
  since: string;
}

/** One pooled row and its cells: rows are reused while scrolling, never rebuilt. */
interface PooledRow {
  element: HTMLElement;
  state: HTMLElement;
  name: HTMLElement;
  id: HTMLAnchorElement;
  args: HTMLElement;
  worker: HTMLElement;
  received: HTMLElement;
  runtime: HTMLElement;
  progress: HTMLElement;
  taskId: string | null;
}

function filtersOf(params: URLSearchParams): Filters {
  return {
    q: params.get('q') ?? '',
    state: params.get('state') ?? '',
    name: params.get('name') ?? '',
    worker: params.get('worker') ?? '',
    since: params.get('since') ?? '',
  };
}

function matcher(filters: Filters): (task: TaskSummary) => boolean {
  const q = filters.q.trim().toLowerCase();
  const since = filters.since ? now() - Number(filters.since) : null;
  return (task) =>
    (!filters.state || task.state === filters.state) &&
    (!filters.name || task.name === filters.name) &&
    (!filters.worker || task.worker === filters.worker) &&
    (since === null || (task.received ?? task.seen) >= since) &&
    (!q || task.id.toLowerCase().includes(q));
}

function select(
  id: string,
  label: string,
  value: string,
  options: Array<[string, string]>,
): HTMLSelectElement {
  const element = h('select', { id, 'aria-label': label });
  setOptions(element, options, value);
  return element;
}

function setOptions(element: HTMLSelectElement, options: Array<[string, string]>, value: string): void {
  const all = options.some(([option]) => option === value)
    ? options
    : [...options, [value, value] as [string, string]];
  fill(element, ...all.map(([option, text]) => h('option', { value: option }, text)));
  element.value = value;
}

function makeRow(): PooledRow {
  const cell = (className: string) => h('span', { class: `cell ${className}` });
  const row: PooledRow = {
    element: h('div', { class: 'vrow', role: 'row' }),
    state: h('span', { class: 'state' }),
    name: cell('name'),
    id: h('a', { class: 'cell id mono' }),
    args: cell('args mono'),
    worker: cell('worker'),
    received: cell('time'),
    runtime: cell('num'),
    progress: progressBar(null),
    taskId: null,
  };
  row.element.append(
    h('span', { class: 'cell' }, row.state),
    row.name,
    row.id,
    row.args,
    row.worker,
    row.received,
    row.runtime,
    h('span', { class: 'cell' }, row.progress),
  );
  return row;
}

function showTask(row: PooledRow, task: TaskSummary, index: number): void {
  row.element.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
  row.element.dataset.taskId = task.id;
  row.taskId = task.id;
  setText(row.state, task.state);
  row.state.dataset.state = task.state;
  setText(row.name, task.name ?? '—');
  row.name.title = task.name ?? '';
  setText(row.id, task.id);
  row.id.href = `#/task/${encodeURIComponent(task.id)}`;
  setText(row.args, task.args);
  row.args.title = task.args;
  setText(row.worker, task.worker ?? '—');
  setText(row.received, clock(task.received ?? task.seen));
  setText(row.runtime, duration(task.runtime));
  setProgress(row.progress, task.progress);
  row.progress.hidden = task.progress === null;
}

/**
 * The live task list: filters (state, name, worker, time, id), newest first, virtualised: only the rows in
 * view (and a few around) are in the DOM, so 10,000 tasks scroll and filter smoothly.
 */
export function tasksView(root: HTMLElement, store: Store, params: URLSearchParams): () => void {
  const filters = filtersOf(params);
  const search = h('input', {
    id: 'task-search',
    type: 'search',
    placeholder: 'Search by task id (Enter opens it)',
    'aria-label': 'task id',
    autocomplete: 'off',
    value: filters.q,
  });
  const stateSelect = select('filter-state', 'state', filters.state, [
    ['', 'all states'],
    ...STATES.map((s): [string, string] => [s, s]),
  ]);
  const nameSelect = select('filter-name', 'task name', filters.name, [['', 'all tasks']]);
  const workerSelect = select('filter-worker', 'worker', filters.worker, [['', 'all workers']]);
  const timeSelect = select('filter-time', 'time', filters.since, TIMES);
  const counter = h('span', { class: 'muted', id: 'task-count' });
  const spacer = h('div', { class: 'vspacer' });
  const scroller = h('div', { class: 'vlist', id: 'task-list', role: 'rowgroup', tabindex: 0 }, spacer);
  const empty = h('p', { class: 'muted empty', id: 'no-tasks' }, 'No task matches.');
  fill(
    root,
    h('div', { class: 'title-row' }, h('h1', {}, 'Tasks'), counter),
    h('div', { class: 'filters' }, search, stateSelect, nameSelect, workerSelect, timeSelect),
    h(
      'div',
      { class: 'card vtable', role: 'table', 'aria-label': 'tasks' },
      h(
        'div',
        { class: 'vrow vhead', role: 'row' },
        ...COLUMNS.map((c) => h('span', { class: 'cell', role: 'columnheader' }, c)),
      ),
      scroller,
      empty,
    ),
  );

  let filtered: string[] = [];
  const pool: PooledRow[] = [];
  let dirty = true;
  let frame = 0;
  let knownNames = -1;
  let knownWorkers = -1;

  const refreshOptions = () => {
    if (store.names.size !== knownNames) {
      knownNames = store.names.size;
      setOptions(
        nameSelect,
        [['', 'all tasks'], ...[...store.names].sort().map((n): [string, string] => [n, n])],
        filters.name,
      );
    }
    if (store.workerNames.size !== knownWorkers) {
      knownWorkers = store.workerNames.size;
      setOptions(
        workerSelect,
        [['', 'all workers'], ...[...store.workerNames].sort().map((w): [string, string] => [w, w])],
        filters.worker,
      );
    }
  };

  const recompute = () => {
    // Keeps the row at the top of the view in place while rows are added above it.
    const anchorIndex = Math.floor(scroller.scrollTop / ROW_HEIGHT);
    const anchor = scroller.scrollTop > 0 ? filtered[anchorIndex] : undefined;
    const offset = scroller.scrollTop - anchorIndex * ROW_HEIGHT;
    const match = matcher(filters);
    const next: string[] = [];
    for (let index = store.order.length - 1; index >= 0; index -= 1) {
      const task = store.tasks.get(store.order[index]!);
      if (task && match(task)) next.push(task.id);
    }
    filtered = next;
    spacer.style.height = `${filtered.length * ROW_HEIGHT}px`;
    setText(counter, `${count(filtered.length)} of ${count(store.tasks.size)}`);
    empty.hidden = filtered.length > 0;
    if (anchor !== undefined) {
      const moved = filtered.indexOf(anchor);
      if (moved >= 0) scroller.scrollTop = moved * ROW_HEIGHT + offset;
    }
  };

  const render = () => {
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil(scroller.clientHeight / ROW_HEIGHT) + OVERSCAN * 2;
    const last = Math.min(filtered.length, first + visible);
    while (pool.length < last - first) {
      const row = makeRow();
      pool.push(row);
      scroller.append(row.element);
    }
    pool.forEach((row, slot) => {
      const index = first + slot;
      const task = index < last ? store.tasks.get(filtered[index]!) : undefined;
      row.element.hidden = !task;
      if (task) showTask(row, task, index);
      else if (row.taskId !== null) {
        row.taskId = null; // a spare row: it shows no task, and no selector should find one in it
        delete row.element.dataset.taskId;
      }
    });
  };

  const schedule = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      if (dirty) {
        refreshOptions();
        recompute();
        dirty = false;
      }
      render();
    });
  };
  const changed = () => {
    dirty = true;
    schedule();
  };

  const applyFilters = () => {
    filters.q = search.value;
    filters.state = stateSelect.value;
    filters.name = nameSelect.value;
    filters.worker = workerSelect.value;
    filters.since = timeSelect.value;
    const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== '')).toString();
    history.replaceState(null, '', `#/tasks${query ? `?${query}` : ''}`);
    scroller.scrollTop = 0;
    changed();
  };
  search.addEventListener('input', applyFilters);
  search.addEventListener('keydown', (event) => {
    const id = search.value.trim();
    if (event.key === 'Enter' && id) location.hash = `#/task/${encodeURIComponent(id)}`;
  });
  for (const element of [stateSelect, nameSelect, workerSelect, timeSelect])
    element.addEventListener('change', applyFilters);
  scroller.addEventListener('scroll', schedule, { passive: true });
  scroller.addEventListener('click', (event) => {
    const row = (event.target as Element).closest<HTMLElement>('.vrow');
    if (row?.dataset.taskId && !(event.target as Element).closest('a'))
      location.hash = `#/task/${encodeURIComponent(row.dataset.taskId)}`;
  });
  const resize = new ResizeObserver(schedule);
  resize.observe(scroller);
  // With a time filter, tasks leave the window as time passes.
  const timer = window.setInterval(() => filters.since && changed(), 5000);

  changed();
  const offs = [store.on('tasks', changed), store.on('workers', changed)];
  return () => {
    cancelAnimationFrame(frame);
    resize.disconnect();
    window.clearInterval(timer);
    for (const off of offs) off();
  };
}
