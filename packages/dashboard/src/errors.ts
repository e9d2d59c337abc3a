import { ConfigurationError, QueueError } from '@queue/core';

/** A dashboard option that cannot work (a bad port, an empty token, `user:pass` without a colon, …). */
export class DashboardOptionsError extends ConfigurationError {
  override readonly code = 'DASHBOARD_OPTIONS';
  constructor(
    message: string,
    /** The option at fault. */
    readonly option: string,
  ) {
    super(`dashboard option ${option}: ${message}`);
    this.name = 'DashboardOptionsError';
  }
}

/** The RabbitMQ management API answered with an error, or could not be reached. */
export class ManagementApiError extends QueueError {
  override readonly code = 'DASHBOARD_MANAGEMENT_API';
  constructor(
    message: string,
    /** The HTTP status, when the API answered. */
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ManagementApiError';
  }
}

/** The broker carries no Celery events or no remote control, so there is nothing to show. */
export class DashboardUnsupportedError extends ConfigurationError {
  override readonly code = 'DASHBOARD_UNSUPPORTED';
  constructor(message: string) {
    super(message);
    this.name = 'DashboardUnsupportedError';
  }
}
