import { setToken, token } from './api';
import { fill, h } from './dom';
import { Store } from './store';
import { connectStream, type StreamStatus } from './stream';
import { overviewView } from './views/overview';
import { queuesView } from './views/queues';
import { taskView } from './views/task';
import { tasksView } from './views/tasks';
import { workersView } from './views/workers';

/**
 * The page: one stream of server events feeds one store; the hash picks the view (`#/workers`,
 * `#/tasks?state=FAILURE`, `#/task/<id>`, `#/queues`), so the page works under any mount prefix.
 */
const store = new Store();
let unmount: (() => void) | undefined;
let stopStream: (() => void) | undefined;

function route(): void {
  const view = document.getElementById('view')!;
  unmount?.();
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = hash.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  let page = 'overview';
  if (path.startsWith('/task/')) {
    page = 'tasks';
    unmount = taskView(view, store, decodeURIComponent(path.slice('/task/'.length)));
  } else if (path === '/tasks') {
    page = 'tasks';
    unmount = tasksView(view, store, params);
  } else if (path === '/workers') {
    page = 'workers';
    unmount = workersView(view, store);
  } else if (path === '/queues') {
    page = 'queues';
    unmount = queuesView(view, store);
  } else {
    unmount = overviewView(view, store);
  }
  document.body.dataset.page = page;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (link.dataset.page === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

const STATUS_TEXT: Record<StreamStatus, string> = {
  connecting: 'connecting…',
  live: 'live',
  offline: 'reconnecting…',
  unauthorized: 'locked',
};

function showStatus(status: StreamStatus): void {
  const element = document.getElementById('connection');
  if (element) {
    element.dataset.state = status;
    element.textContent = STATUS_TEXT[status];
  }
  if (status === 'unauthorized') showLogin();
}

/** The token form (bearer auth): the token stays in this tab's sessionStorage only. */
function showLogin(): void {
  unmount?.();
  unmount = undefined;
  const input = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'current-password',
    placeholder: 'Access token',
    'aria-label': 'access token',
    required: true,
  });
  const form = h(
    'form',
    { class: 'card login', id: 'login' },
    h('h1', {}, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      token() ? 'That token was refused. ' : '',
      'This dashboard needs its access token.',
    ),
    input,
    h('button', { type: 'submit' }, 'Open the dashboard'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    start();
  });
  fill(document.getElementById('view')!, form);
  input.focus();
}

function start(): void {
  stopStream?.();
  let routed = false;
  stopStream = connectStream({
    message: (event, data) => {
      store.apply(event, data);
      if (event === 'snapshot' && !routed) {
        routed = true;
        route();
      }
    },
    status: showStatus,
  });
}

window.addEventListener('hashchange', () => {
  if (store.info) route();
});
window.addEventListener('DOMContentLoaded', start);
