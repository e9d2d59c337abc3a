/** What to do on the first signal (warm) and on a second one (cold). */
export interface ShutdownSteps {
  warm(): Promise<void>;
  cold(): Promise<void>;
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
/** A cold shutdown that cannot close its connection in this time exits anyway (the broker requeues on socket close). */
const COLD_EXIT_MS = 2000;

/**
 * First SIGTERM/SIGINT: warm shutdown, then exit 0. A second signal: cold shutdown, exit 1 right after
 * closing the connection (unacked messages return to their queues). Returns the function that starts the
 * same warm shutdown for another reason (remote control's `shutdown`).
 */
export function handleShutdownSignals(
  steps: ShutdownSteps,
  exit: (code: number) => void = process.exit,
  /** Names the command in the failure line. */
  label = 'worker',
): () => void {
  let signals = 0;
  const onSignal = (): void => {
    signals += 1;
    if (signals === 1) {
      steps.warm().then(
        () => exit(0),
        (error: unknown) => {
          process.stderr.write(`${label}: warm shutdown failed: ${(error as Error).message}\n`);
          exit(1);
        },
      );
      return;
    }
    if (signals === 2) {
      setTimeout(() => exit(1), COLD_EXIT_MS).unref();
      steps.cold().finally(() => exit(1));
    }
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return () => {
    if (signals === 0) onSignal();
  };
}
