/**
 * Node ends a process, with exit code 0, as soon as nothing is scheduled: no socket, no ref'd timer. A
 * started worker between two reconnect attempts, or a `get()` waiting for a result, may hold neither, so
 * without a hold the process would simply stop while the user believes it is working. One shared interval
 * timer is kept while at least one hold is taken (cheap enough for every pending `get()`).
 */
let holds = 0;
let timer: NodeJS.Timeout | undefined;

const IDLE_PERIOD_MS = 2 ** 30;

/** Keeps the process alive until the returned function is called (calling it more than once is harmless). */
export function holdProcess(): () => void {
  if (holds++ === 0) timer = setInterval(() => undefined, IDLE_PERIOD_MS);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holds === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** How many holds are taken now (for leak checks in tests and benchmarks). */
export function processHolds(): number {
  return holds;
}
