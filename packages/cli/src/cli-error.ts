import { QueueError } from '@queue/core';

/** A usage problem (bad flag, unloadable module, no App): one clear line and exit code 2, no stack trace. */
export class CliUsageError extends QueueError {
  override readonly code = 'CLI_USAGE';
  /** The process exit code for usage errors. */
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliUsageError';
  }
}
