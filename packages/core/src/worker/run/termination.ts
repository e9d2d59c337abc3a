import { TaskRevokedError } from '../../errors';

/** Signal numbers Celery accepts by name (`SIGTERM`, `TERM`, …); only reported, never sent to a process. */
const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, TERM: 15 };

/** Celery's `signal` argument (a name with or without `SIG`, a number, or null for TERM) as a number. */
export function signalNumber(signal: unknown): number | undefined {
  if (signal === null || signal === undefined) return SIGNALS.TERM;
  if (typeof signal === 'number')
    return Number.isInteger(signal) && signal > 0 && signal < 65 ? signal : undefined;
  if (typeof signal !== 'string') return undefined;
  const name = signal.toUpperCase().replace(/^SIG/, '');
  return SIGNALS[name] ?? (/^\d+$/.test(name) ? signalNumber(Number(name)) : undefined);
}

/** The error a terminated run ends with (`revoke(…, terminate=True)`). */
export class TerminatedError extends TaskRevokedError {
  constructor(readonly signum: number) {
    super('terminated');
  }
}

/**
 * How one running task is stopped by `revoke(terminate=True)`: the run's AbortSignal fires with
 * `TerminatedError`, and the run ends with it at once, whatever the body does next (it is abandoned, as at
 * a hard time limit; the threads pool also ends the thread after a grace period).
 */
export class Termination {
  private rejectRun: ((error: TerminatedError) => void) | undefined;
  private controller: AbortController | undefined;
  reason: TerminatedError | undefined;

  /** The run's controller, aborted on termination (at once, if it came before the run began). */
  attach(controller: AbortController | undefined): void {
    this.controller = controller;
    if (this.reason && controller && !controller.signal.aborted) controller.abort(this.reason);
  }

  /** `run`, unless terminated first: then TerminatedError (and whatever `run` does later is ignored). */
  guard<T>(run: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.rejectRun = reject;
      run.then(resolve, reject);
      if (this.reason) reject(this.reason);
    });
  }

  terminate(signum: number): void {
    if (this.reason) return;
    this.reason = new TerminatedError(signum);
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(this.reason);
    this.rejectRun?.(this.reason);
  }
}
