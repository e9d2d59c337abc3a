import { READY_STATES, type StateChange } from '@queue/core';
import { percentText, progressOf, stateLine } from './state-line';

/** Where states are drawn: process.stderr, or a fake one in tests. */
export interface RenderTarget {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal width, when known. */
  readonly columns?: number;
}

/** Shows a task's states as they arrive; `end()` once the following stops. */
export interface StateRenderer {
  update(change: StateChange): void;
  end(): void;
}

/** Not a terminal (a pipe, a log file): one line per state change, never the same line twice in a row. */
export function lineRenderer(out: RenderTarget): StateRenderer {
  let last: string | undefined;
  return {
    update(change) {
      const line = stateLine(change);
      if (line === last) return;
      last = line;
      out.write(`${line}\n`);
    },
    end() {},
  };
}

const CLEAR_LINE = '\r\u001b[2K';
const FILLED = '█';
const EMPTY = '░';

/**
 * A terminal: one status line redrawn in place, with a bar while PROGRESS meta says how far the task is.
 * A ready state leaves that line as it was (the last progress stays visible) and prints its own below.
 */
export function barRenderer(out: RenderTarget): StateRenderer {
  let drawn = false;
  let last: string | undefined;
  const draw = (text: string) => {
    if (text === last) return;
    last = text;
    out.write(`${CLEAR_LINE}${text}`);
    drawn = true;
  };
  return {
    update(change) {
      if (READY_STATES.has(change.state)) {
        if (drawn) out.write('\n');
        drawn = false;
        out.write(`${stateLine(change)}\n`);
        return;
      }
      const progress = progressOf(change.info);
      if (!progress) return draw(stateLine(change));
      // The bar takes what the line leaves, between 10 and 40 cells.
      const width = Math.max(10, Math.min(40, (out.columns || 80) - change.state.length - 24));
      const filled = Math.round((progress.percent / 100) * width);
      draw(
        `${change.state} ${FILLED.repeat(filled)}${EMPTY.repeat(width - filled)} ${percentText(progress)}`,
      );
    },
    end() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}

/** The bar on a terminal, lines otherwise. */
export function rendererFor(out: RenderTarget): StateRenderer {
  return out.isTTY ? barRenderer(out) : lineRenderer(out);
}
