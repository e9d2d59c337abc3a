import { RemoteTaskError, States, type StateChange } from '@queue/core';

/** How far a task says it is, from its PROGRESS meta. */
export interface Progress {
  /** 0–100. */
  percent: number;
  /** `current`/`total` of the meta, when it gave those. */
  current?: number;
  total?: number;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const clamp = (percent: number) => Math.min(100, Math.max(0, percent));

/** `{ percent }` or `{ current, total }` (the two shapes Celery progress meta takes); undefined otherwise. */
export function progressOf(info: unknown): Progress | undefined {
  if (typeof info !== 'object' || info === null) return undefined;
  const { percent, current, total } = info as Record<string, unknown>;
  if (isNumber(current) && isNumber(total) && total > 0) {
    return { percent: isNumber(percent) ? clamp(percent) : clamp((current * 100) / total), current, total };
  }
  return isNumber(percent) ? { percent: clamp(percent) } : undefined;
}

/** `ValueError: boom`, on one line, from what a RETRY/FAILURE/REVOKED state carries. */
export function errorLine(info: unknown): string {
  const [type, message] =
    info instanceof RemoteTaskError
      ? [info.excType, info.excMessage]
      : info instanceof Error
        ? [info.name, info.message]
        : ['Error', String(info)];
  const text = `${type}: ${message}`.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return text.endsWith(':') ? text.slice(0, -1) : text;
}

/** `40%`, or `40% (4/10)` when the meta counted. */
export function percentText(progress: Progress): string {
  const counts = progress.total !== undefined ? ` (${progress.current}/${progress.total})` : '';
  return `${Math.round(progress.percent)}%${counts}`;
}

/**
 * One state as a line: `STARTED`, `PROGRESS 40% (4/10)`, `RETRY ConnectionError: refused`,
 * `FAILURE ValueError: boom`, `SUCCESS`.
 */
export function stateLine({ state, info }: StateChange): string {
  if (state === States.FAILURE || state === States.REVOKED || state === States.RETRY) {
    return `${state} ${errorLine(info)}`;
  }
  if (state === States.SUCCESS) return state;
  const progress = progressOf(info);
  return progress ? `${state} ${percentText(progress)}` : state;
}
