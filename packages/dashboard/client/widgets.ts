import { h } from './dom';

/** Small pieces several views share: state badges, progress bars, the notice line. */

/** A task state as a coloured pill (the colour comes from the state, via CSS). */
export function stateBadge(state: string): HTMLElement {
  return h('span', { class: 'state', 'data-state': state }, state);
}

/** A progress bar with its percentage; `percent` null draws an empty, indeterminate-looking bar. */
export function progressBar(percent: number | null, label = 'progress'): HTMLElement {
  const fillElement = h('span', { class: 'fill' });
  const bar = h(
    'span',
    { class: 'bar', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100 },
    fillElement,
  );
  const text = h('span', { class: 'percent' });
  const wrapper = h('span', { class: 'progress' }, bar, text);
  setProgress(wrapper, percent);
  return wrapper;
}

/** Updates a bar made by `progressBar`. */
export function setProgress(wrapper: HTMLElement, percent: number | null): void {
  const bar = wrapper.querySelector<HTMLElement>('.bar')!;
  const fillElement = wrapper.querySelector<HTMLElement>('.fill')!;
  const text = wrapper.querySelector<HTMLElement>('.percent')!;
  const value = percent === null ? null : Math.round(percent);
  if (value === null) {
    bar.removeAttribute('aria-valuenow');
    fillElement.style.width = '0';
    text.textContent = '';
  } else {
    bar.setAttribute('aria-valuenow', String(value));
    fillElement.style.width = `${value}%`;
    text.textContent = `${value}%`;
  }
}

let noticeTimer: number | undefined;

/** Shows a short message under the header (an action's outcome); errors stay until the next message. */
export function notify(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const notice = document.getElementById('notice');
  if (!notice) return;
  notice.textContent = message;
  notice.dataset.kind = kind;
  notice.hidden = false;
  window.clearTimeout(noticeTimer);
  if (kind === 'ok') noticeTimer = window.setTimeout(() => (notice.hidden = true), 8000);
}

/** Runs an action from a button: disabled meanwhile, outcome in the notice line. */
export async function runAction(
  button: HTMLButtonElement,
  action: () => Promise<{ ok: boolean; message: string }>,
): Promise<void> {
  button.disabled = true;
  try {
    const result = await action();
    notify(result.message, result.ok ? 'ok' : 'error');
  } catch (error) {
    notify(error instanceof Error ? error.message : String(error), 'error');
  } finally {
    button.disabled = false;
  }
}
