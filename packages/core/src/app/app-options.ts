import {
  IsBoolean,
  IsInt,
  IsNumber,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Min,
  validateSync,
} from 'class-validator';
import { ConfigurationError, describeIssues } from '../errors';
import { DEFAULT_JSON_LIMITS } from '../protocol/json';
import { toIssues, validateTaskOptions, type TaskDefaults } from '../task/options';
import { compileBeatSchedule, type BeatEntry, type BeatScheduleEntry } from '../beat/entries';
import { checkTimezone } from '../beat/wall-clock';

/** Configuration of an App. */
export interface AppOptions {
  /** The App's name (shown in logs). */
  name: string;
  /** Broker URL: `memory://` (in-process), or `amqp://user:pass@host:5672/vhost` with `@queue/amqp`. @default 'memory://' */
  broker?: string;
  /** Result backend URL: `memory://`, or `rpc://` with `@queue/amqp`. @default 'memory://' with a memory broker, else 'rpc://' */
  resultBackend?: string;
  /** Queue for tasks that name none. @default 'celery' (Celery's default, so both can share it) */
  defaultQueue?: string;
  /**
   * Option defaults for every task of this App (overridden by class fields and decorator options). @default
   * `{}`
   */
  taskDefaults?: TaskDefaults;
  /** Run tasks at once, in-process, when they are sent (Celery's `task_always_eager`); for tests. @default false */
  taskAlwaysEager?: boolean;
  /** In eager mode, make `applyAsync` reject when the task fails. @default false */
  taskEagerPropagates?: boolean;
  /** Largest task message body accepted by workers, in bytes. @default 16 MiB (RabbitMQ's own limit) */
  maxMessageBytes?: number;
  /**
   * Largest result (or state meta) a worker stores, as JSON bytes; a bigger one is not written and the
   * task ends in FAILURE with `ResultTooLargeError`. @default 16 MiB
   */
  maxResultBytes?: number;
  /**
   * Seconds a stored result lives in redis:// and postgresql:// backends (Celery's `result_expires`);
   * `null` keeps results until `forget()`. @default 86400 (one day)
   */
  resultExpires?: number | null;
  /**
   * Workers send Celery's task events (`task-received`, `task-succeeded`, …) on the broker's event stream,
   * for `celery events`, Flower and `queue events` (Celery's `worker_send_task_events`, `-E`). Worker events
   * (online, heartbeat, offline) are sent either way. @default false
   */
  workerSendTaskEvents?: boolean;
  /** Sending a task also publishes a `task-sent` event (Celery's `task_send_sent_event`). @default false */
  taskSendSentEvent?: boolean;
  /**
   * Workers ignore every task's `rateLimit` (Celery's `worker_disable_rate_limits`); the `rate_limit` control
   * command still answers and records the rate, which then has no effect. @default false
   */
  workerDisableRateLimits?: boolean;
  /** How many revoked task ids a worker remembers (Celery's `CELERY_WORKER_REVOKES_MAX`). @default 50000 */
  workerRevokesMax?: number;
  /**
   * Seconds a revoked id is kept at least; older ones make room first once `workerRevokesMax` is reached
   * (Celery's `CELERY_WORKER_REVOKE_EXPIRES`). @default 10800 (3 hours)
   */
  workerRevokeExpires?: number;
  /** Settings passed to the transport and result backend (see `@queue/amqp`). @default `{}` */
  transportOptions?: Record<string, unknown>;
  /** Make this App the current one (used by class tasks and shared tasks). @default true */
  setAsCurrent?: boolean;
  /**
   * Periodic tasks sent by `queue beat` (Celery's `beat_schedule`): entry name → `{ task, schedule, args?,
   * kwargs?, options? }`, where `schedule` is seconds, `every(seconds)` or `crontab(...)`.
   * @default `{}`
   */
  beatSchedule?: Record<string, BeatScheduleEntry>;
  /** IANA timezone that crontab schedules are read in (Celery's `timezone`). @default 'UTC' */
  timezone?: string;
  /**
   * OpenTelemetry spans for sending (`apply_async/<task>`, PRODUCER) and running (`run/<task>`, CONSUMER)
   * tasks, with the trace context carried in the message headers (`traceparent`), as Celery's Python
   * instrumentation does. Needs `@opentelemetry/api` installed; spans are recorded once the application
   * registers an SDK (tracer provider, propagator and context manager). @default false
   */
  tracing?: boolean;
}

class AppOptionsSchema {
  @IsString() @IsNotEmpty() name!: string;
  @IsOptional() @IsString() @IsNotEmpty() broker?: string;
  @IsOptional() @IsString() @IsNotEmpty() resultBackend?: string;
  @IsOptional() @IsString() @IsNotEmpty() defaultQueue?: string;
  @IsOptional() @IsObject() taskDefaults?: TaskDefaults;
  @IsOptional() @IsBoolean() taskAlwaysEager?: boolean;
  @IsOptional() @IsBoolean() taskEagerPropagates?: boolean;
  @IsOptional() @IsInt() @Min(1) maxMessageBytes?: number;
  @IsOptional() @IsInt() @Min(1) maxResultBytes?: number;
  @IsOptional() @IsInt() @Min(1) resultExpires?: number | null;
  @IsOptional() @IsBoolean() workerSendTaskEvents?: boolean;
  @IsOptional() @IsBoolean() taskSendSentEvent?: boolean;
  @IsOptional() @IsBoolean() workerDisableRateLimits?: boolean;
  @IsOptional() @IsInt() @Min(1) workerRevokesMax?: number;
  @IsOptional() @IsNumber() @Min(0) workerRevokeExpires?: number;
  @IsOptional() @IsObject() transportOptions?: Record<string, unknown>;
  @IsOptional() @IsBoolean() setAsCurrent?: boolean;
  @IsOptional() @IsObject() beatSchedule?: Record<string, BeatScheduleEntry>;
  @IsOptional() @IsString() timezone?: string;
  @IsOptional() @IsBoolean() tracing?: boolean;
}

/** An App's options with every default filled in and checked (`app.conf`). */
export interface CompiledAppOptions {
  /** See {@link AppOptions.name}. */
  readonly name: string;
  /** See {@link AppOptions.broker}. */
  readonly broker: string;
  /** The result backend URL in use (see {@link AppOptions.resultBackend} for how it is chosen). */
  readonly resultBackend: string;
  /** See {@link AppOptions.defaultQueue}. */
  readonly defaultQueue: string;
  /** See {@link AppOptions.taskDefaults}; `{}` when none were given. */
  readonly taskDefaults: TaskDefaults;
  /** See {@link AppOptions.taskAlwaysEager}. */
  readonly taskAlwaysEager: boolean;
  /** See {@link AppOptions.taskEagerPropagates}. */
  readonly taskEagerPropagates: boolean;
  /** See {@link AppOptions.maxMessageBytes}. */
  readonly maxMessageBytes: number;
  /** See {@link AppOptions.maxResultBytes}. */
  readonly maxResultBytes: number;
  /** See {@link AppOptions.resultExpires}. */
  readonly resultExpires: number | null;
  /** See {@link AppOptions.workerSendTaskEvents}. */
  readonly workerSendTaskEvents: boolean;
  /** See {@link AppOptions.taskSendSentEvent}. */
  readonly taskSendSentEvent: boolean;
  /** See {@link AppOptions.workerDisableRateLimits}. */
  readonly workerDisableRateLimits: boolean;
  /** See {@link AppOptions.workerRevokesMax}. */
  readonly workerRevokesMax: number;
  /** See {@link AppOptions.workerRevokeExpires}. */
  readonly workerRevokeExpires: number;
  /** See {@link AppOptions.transportOptions}; `{}` when none were given. */
  readonly transportOptions: Readonly<Record<string, unknown>>;
  /** See {@link AppOptions.setAsCurrent}. */
  readonly setAsCurrent: boolean;
  /** The entries of {@link AppOptions.beatSchedule}, checked. */
  readonly beatSchedule: Readonly<Record<string, BeatEntry>>;
  /** See {@link AppOptions.timezone}. */
  readonly timezone: string;
  /** See {@link AppOptions.tracing}. */
  readonly tracing: boolean;
}

function compileTimezone(timezone: string | undefined): string {
  if (timezone === undefined) return 'UTC';
  checkTimezone(timezone);
  return timezone;
}

/** @throws ConfigurationError naming each bad option. */
export function compileAppOptions(options: AppOptions): CompiledAppOptions {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('App options must be an object');
  const errors = validateSync(Object.assign(new AppOptionsSchema(), options), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  if (errors.length > 0) {
    const detail = describeIssues(toIssues(errors));
    throw new ConfigurationError(`Invalid App options: ${detail}`);
  }
  const taskDefaults = options.taskDefaults ?? {};
  validateTaskOptions(`taskDefaults of App ${options.name}`, taskDefaults);
  const broker = options.broker ?? 'memory://';
  return Object.freeze({
    name: options.name,
    broker,
    resultBackend: options.resultBackend ?? (broker.startsWith('memory:') ? 'memory://' : 'rpc://'),
    defaultQueue: options.defaultQueue ?? 'celery',
    taskDefaults,
    taskAlwaysEager: options.taskAlwaysEager ?? false,
    taskEagerPropagates: options.taskEagerPropagates ?? false,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_JSON_LIMITS.maxBytes,
    maxResultBytes: options.maxResultBytes ?? DEFAULT_JSON_LIMITS.maxBytes,
    resultExpires: options.resultExpires === undefined ? 86_400 : options.resultExpires,
    workerSendTaskEvents: options.workerSendTaskEvents ?? false,
    taskSendSentEvent: options.taskSendSentEvent ?? false,
    workerDisableRateLimits: options.workerDisableRateLimits ?? false,
    workerRevokesMax: options.workerRevokesMax ?? 50_000,
    workerRevokeExpires: options.workerRevokeExpires ?? 10_800,
    transportOptions: options.transportOptions ?? {},
    setAsCurrent: options.setAsCurrent ?? true,
    beatSchedule: compileBeatSchedule(options.beatSchedule),
    timezone: compileTimezone(options.timezone),
    tracing: options.tracing ?? false,
  });
}
