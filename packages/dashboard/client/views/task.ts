import type { TaskDetail } from '../../src/wire';
import { fetchTask, revokeTask } from '../api';
import { fill, h } from '../dom';
import { clock, duration } from '../format';
import type { Store } from '../store';
import { notify, progressBar, runAction, stateBadge } from '../widgets';

const FINISHED = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED']);

function field(label: string, value: Node | string | null, id?: string): HTMLElement[] {
  return [h('dt', {}, label), h('dd', { id }, value ?? '—')];
}

function taskLink(id: string | null): Node | string {
  return id ? h('a', { href: `#/task/${encodeURIComponent(id)}`, class: 'mono' }, id) : '—';
}

function block(title: string, text: string | null, id: string, className = ''): HTMLElement | null {
  if (text === null || text === '') return null;
  return h('section', { class: 'card' }, h('h2', {}, title), h('pre', { id, class: className }, text));
}

/**
 * One task: its arguments, states with their times, progress, result or error with traceback, and the
 * revoke / terminate buttons. Refetched whenever the stream says the task changed.
 */
export function taskView(root: HTMLElement, store: Store, id: string): () => void {
  let stopped = false;
  let loading = false;
  let again = false;

  const render = (task: TaskDetail) => {
    const finished = FINISHED.has(task.state);
    const revoke = h(
      'button',
      { type: 'button', id: 'revoke', title: 'do not run it (if still queued)' },
      'Revoke',
    );
    const terminate = h(
      'button',
      { type: 'button', id: 'terminate', class: 'danger', title: 'stop it now if running (SIGTERM)' },
      'Terminate',
    );
    revoke.disabled = finished;
    terminate.disabled = finished;
    revoke.addEventListener('click', () => void runAction(revoke, () => revokeTask(task.id, false)));
    terminate.addEventListener('click', () => {
      if (window.confirm(`Terminate ${task.name ?? 'task'} ${task.id}?`))
        void runAction(terminate, () => revokeTask(task.id, true));
    });
    const showProgress = task.progress !== null || task.backendState === 'PROGRESS';
    // With rpc:// no other process can read a task's PROGRESS: say so rather than show an empty bar.
    const noProgress =
      store.info && !store.info.progress && !finished
        ? h(
            'p',
            { class: 'muted', id: 'no-progress' },
            `No progress bar: the result backend (${store.info.resultBackend}://) keeps no states another process can read; use redis:// or postgresql://.`,
          )
        : null;
    const first = task.history[0]?.at ?? null;
    fill(
      root,
      h('p', { class: 'crumbs' }, h('a', { href: '#/tasks' }, '← Tasks')),
      h(
        'div',
        { class: 'title-row' },
        h('h1', { id: 'task-name' }, task.name ?? 'unknown task'),
        h('span', { id: 'task-state' }, stateBadge(task.state)),
        h('span', { class: 'spacer' }),
        revoke,
        terminate,
      ),
      h('p', { class: 'mono muted', id: 'task-id' }, task.id),
      noProgress,
      showProgress
        ? h(
            'section',
            { class: 'card' },
            h('h2', {}, 'Progress'),
            h('div', { id: 'task-progress' }, progressBar(task.progress, 'task progress')),
            task.backendState
              ? h(
                  'p',
                  { class: 'muted' },
                  `result backend: ${task.backendState} ${JSON.stringify(task.backendMeta)}`,
                )
              : null,
          )
        : null,
      h(
        'section',
        { class: 'card' },
        h(
          'dl',
          { class: 'facts' },
          ...field('Worker', task.worker),
          ...field('Received', task.received === null ? null : clock(task.received, true)),
          ...field('Started', task.started === null ? null : clock(task.started, true)),
          ...field('Finished', task.finished === null ? null : clock(task.finished, true)),
          ...field('Runtime', task.runtime === null ? null : duration(task.runtime)),
          ...field('Retries', String(task.retries), 'task-retries'),
          ...field('Queue', task.queue),
          ...field('ETA', task.eta),
          ...field('Expires', task.expires),
          ...field('Parent', taskLink(task.parentId)),
          ...field('Root', taskLink(task.rootId)),
          ...(task.terminated ? field('Terminated', 'yes (revoked while running)') : []),
        ),
      ),
      block('Arguments', task.argsFull, 'task-args', 'mono'),
      block('Keyword arguments', task.kwargs, 'task-kwargs', 'mono'),
      block('Result', task.result, 'task-result', 'mono'),
      block('Exception', task.exception, 'task-exception', 'mono error-text'),
      block('Traceback', task.traceback, 'task-traceback', 'mono traceback'),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'States'),
        task.history.length === 0
          ? h(
              'p',
              { class: 'muted' },
              'No event seen for this task (it is known from the result backend only).',
            )
          : h(
              'ol',
              { class: 'timeline', id: 'task-history' },
              ...task.history.map((step) =>
                h(
                  'li',
                  {},
                  stateBadge(step.state),
                  h('span', { class: 'mono' }, clock(step.at, true)),
                  h('span', { class: 'muted' }, first === null ? '' : `+${duration(step.at - first)}`),
                  h('span', { class: 'muted' }, step.hostname ?? ''),
                ),
              ),
            ),
      ),
    );
  };

  const load = async () => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const task = await fetchTask(id);
      if (stopped) return;
      if (task) render(task);
      else
        fill(
          root,
          h('p', { class: 'crumbs' }, h('a', { href: '#/tasks' }, '← Tasks')),
          h('h1', {}, 'Task not found'),
          h(
            'p',
            { class: 'muted' },
            'No event and no stored result name this id: ',
            h('span', { class: 'mono' }, id),
          ),
        );
    } catch (error) {
      if (!stopped) notify(error instanceof Error ? error.message : String(error), 'error');
    } finally {
      loading = false;
      if (again && !stopped) {
        again = false;
        void load();
      }
    }
  };

  void load();
  const off = store.on('tasks', (ids) => {
    if (!ids || ids.has(id)) void load();
  });
  return () => {
    stopped = true;
    off();
  };
}
