import { QueueError } from '@queue/core';

/** A usage problem (bad flag, unloadable module, no App): one clear line and exit code 2, no stack trace. */
export class CliUsageError extends QueueError {
  override readonly code = 'CLI_USAGE';
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliUsageError';
  }
}
