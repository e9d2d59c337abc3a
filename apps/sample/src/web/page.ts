import { MAX_TITLE_LENGTH } from '../db/record-store';

/**
 * The whole front end: one static page, no build step. It polls `GET /api/records` (every 300 ms while a
 * task is running, every second otherwise) and creates records with `POST /api/records`. User text is only
 * ever set with textContent, never parsed as HTML.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hello_celery · records</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2433; }
  main { max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
  .lead { margin: 0 0 1.5rem; color: #556; }
  form { display: flex; gap: .5rem; margin-bottom: .5rem; }
  input { flex: 1; padding: .5rem .6rem; border: 1px solid #c5cad3; border-radius: 6px; font: inherit; }
  button { padding: .5rem 1.2rem; border: 0; border-radius: 6px; background: #2f6fde; color: #fff; font: inherit; cursor: pointer; }
  button:disabled { opacity: .6; cursor: progress; }
  #error { color: #b3261e; margin: .25rem 0; min-height: 1.4em; }
  #status { color: #8a6d00; font-size: .9em; min-height: 1.2em; }
  table { width: 100%; border-collapse: collapse; background: #fff; border-radius: 8px; overflow: hidden; box-shadow: 0 1px 3px #0002; }
  th, td { text-align: left; padding: .55rem .7rem; border-bottom: 1px solid #eceef2; vertical-align: middle; }
  th { background: #eef1f6; font-weight: 600; font-size: .9em; }
  td.task { font-family: ui-monospace, monospace; font-size: .8em; color: #667; }
  .state { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .8em; font-weight: 600; background: #e4e7ec; }
  .state[data-state="PROGRESS"], .state[data-state="STARTED"] { background: #dbe7fd; color: #1f4fae; }
  .state[data-state="SUCCESS"] { background: #d7f2df; color: #1b6b34; }
  .state[data-state="FAILURE"], .state[data-state="REVOKED"] { background: #fbdcd9; color: #9b1c13; }
  .progress { display: flex; align-items: center; gap: .5rem; min-width: 14rem; }
  .bar { flex: 1; height: .7rem; background: #e4e7ec; border-radius: 999px; overflow: hidden; }
  .fill { height: 100%; width: 0; background: #2f6fde; transition: width .25s linear; }
  .bar[aria-valuenow="100"] .fill { background: #2e9b51; }
  .percent { width: 3rem; text-align: right; font-variant-numeric: tabular-nums; }
  .bar[data-failed] .fill { background: #c4453b; }
  .task-error { margin-top: .2rem; color: #9b1c13; font-size: .85em; overflow-wrap: anywhere; }
  .task-error:empty { display: none; }
  #empty { color: #667; }
</style>
</head>
<body>
<main>
  <h1>hello_celery</h1>
  <p class="lead">Each new record is saved in a transaction that stores its task id; the <code>manual</code> task is
  sent only after the commit, and reports its progress in 50 steps.</p>
  <form id="create-form">
    <input id="title" name="title" maxlength="${MAX_TITLE_LENGTH}" placeholder="Title of the new record" autocomplete="off" required>
    <button id="create" type="submit">Create</button>
  </form>
  <p id="error" role="alert"></p>
  <table>
    <thead><tr><th>#</th><th>Title</th><th>Task id</th><th>State</th><th>Progress</th></tr></thead>
    <tbody id="records"></tbody>
  </table>
  <p id="empty">No records yet: create one above.</p>
  <p id="status" aria-live="polite"></p>
</main>
<script>
(() => {
  const tbody = document.getElementById('records');
  const form = document.getElementById('create-form');
  const input = document.getElementById('title');
  const button = document.getElementById('create');
  const errorBox = document.getElementById('error');
  const statusBox = document.getElementById('status');
  const empty = document.getElementById('empty');
  const READY = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
  const ERRORED = new Set(['FAILURE', 'REVOKED', 'RETRY']);
  const rows = new Map();
  let timer;

  function cell(tr, className) {
    const td = document.createElement('td');
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }

  function rowFor(record) {
    let row = rows.get(record.id);
    if (row) return row;
    const tr = document.createElement('tr');
    tr.dataset.recordId = String(record.id);
    cell(tr).textContent = String(record.id);
    cell(tr, 'title').textContent = record.title;
    cell(tr, 'task').textContent = record.taskId;
    const state = document.createElement('span');
    state.className = 'state';
    cell(tr).appendChild(state);
    const progress = cell(tr).appendChild(document.createElement('div'));
    progress.className = 'progress';
    const bar = progress.appendChild(document.createElement('div'));
    bar.className = 'bar';
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    const fill = bar.appendChild(document.createElement('div'));
    fill.className = 'fill';
    const percent = progress.appendChild(document.createElement('span'));
    percent.className = 'percent';
    const failure = progress.parentNode.appendChild(document.createElement('div'));
    failure.className = 'task-error';
    row = { tr, state, bar, fill, percent, failure, lastPct: 0 };
    rows.set(record.id, row);
    return row;
  }

  function render(records) {
    records.forEach((record) => {
      const row = rowFor(record);
      const task = record.task;
      const failed = ERRORED.has(task.state) && task.info && typeof task.info === 'object' && 'excType' in task.info;
      // A failure's state carries only the error: keep the last progress shown (the server's, else ours).
      const pct = failed ? Math.max(Math.round(task.percent), row.lastPct) : Math.round(task.percent);
      if (!failed) row.lastPct = pct;
      row.state.textContent = task.state;
      row.state.dataset.state = task.state;
      row.failure.textContent = failed
        ? (task.state === 'RETRY' ? 'retrying after ' : '') + task.info.excType + ': ' + task.info.excMessage +
          ' (at ' + pct + '%)'
        : '';
      row.state.title = row.failure.textContent;
      if (failed) row.bar.dataset.failed = '';
      else delete row.bar.dataset.failed;
      row.bar.setAttribute('aria-valuenow', String(pct));
      row.fill.style.width = pct + '%';
      row.percent.textContent = pct + '%';
      tbody.appendChild(row.tr); // appending in order keeps newest first
    });
    empty.hidden = records.length > 0;
  }

  async function refresh() {
    clearTimeout(timer);
    let busy = false;
    try {
      const response = await fetch('/api/records', { headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      const body = await response.json();
      render(body.records);
      busy = body.records.some((record) => !READY.has(record.task.state));
      statusBox.textContent = '';
    } catch (error) {
      statusBox.textContent = 'Cannot reach the server (' + error.message + '), retrying…';
    }
    timer = setTimeout(refresh, busy ? 300 : 1000);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errorBox.textContent = '';
    button.disabled = true;
    try {
      const response = await fetch('/api/records', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ title: input.value }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.message || 'HTTP ' + response.status);
      input.value = '';
    } catch (error) {
      errorBox.textContent = 'Could not create the record: ' + error.message;
    } finally {
      button.disabled = false;
      input.focus();
    }
    refresh();
  });

  refresh();
})();
</script>
</body>
</html>
`;
