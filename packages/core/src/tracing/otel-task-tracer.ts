import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { TaskEnvelope, WireMessage } from '../protocol/message';
import { VERSION } from '../runtime/version';
import type { DeliveryInfo } from '../task/request';
import type { TaskTracer, TracedOutcome } from './task-tracer';

// Names as opentelemetry-instrumentation-celery (Python) gives them, so that one trace reads the same on
// both sides: spans `apply_async/<task>` (PRODUCER) and `run/<task>` (CONSUMER), attributes `celery.*`.
const ACTION = 'celery.action';
const TASK_NAME = 'celery.task_name';
const MESSAGE_ID = 'messaging.message_id';

/** Header values may arrive as bytes (AMQP byte arrays); the propagator wants text. */
const headerGetter: TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return undefined;
  },
};

function describe(error: Error): string {
  return `${error.name}: ${error.message}`;
}

function recordError(span: Span, error: Error): void {
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: describe(error) });
}

/**
 * Task spans on the OpenTelemetry API (a no-op until the application registers an SDK). The trace context
 * travels in the message's application headers under the propagator's names (W3C: `traceparent`,
 * `tracestate`), where Celery's Python instrumentation puts and looks for it (`propagate.inject` into the
 * protocol-v2 headers on publish; on run it reads them back from `task.request`, which holds every header).
 */
export class OtelTaskTracer implements TaskTracer {
  private readonly tracer: Tracer;

  constructor(private readonly system: string) {
    this.tracer = trace.getTracer('@queue/core', VERSION);
  }

  async publish(
    envelope: TaskEnvelope,
    message: WireMessage,
    queue: string,
    send: () => Promise<void>,
  ): Promise<void> {
    const span = this.tracer.startSpan(`apply_async/${envelope.task}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ACTION]: 'apply_async',
        [TASK_NAME]: envelope.task,
        [MESSAGE_ID]: envelope.id,
        'messaging.system': this.system,
        'messaging.destination': queue,
        'messaging.destination.name': queue,
        'messaging.operation.type': 'send',
      },
    });
    // A retry carries the context of the attempt before it: this send's own replaces it.
    for (const field of propagation.fields()) delete message.headers[field];
    propagation.inject(trace.setSpan(context.active(), span), message.headers);
    try {
      await send();
    } catch (error) {
      recordError(span, error as Error);
      throw error;
    } finally {
      span.end();
    }
  }

  async run<T extends TracedOutcome>(
    envelope: TaskEnvelope,
    delivery: DeliveryInfo | null,
    hostname: string,
    execute: () => Promise<T>,
  ): Promise<T> {
    // No context in the headers (a client without tracing): the run starts a trace of its own.
    const parent = propagation.extract(context.active(), envelope.extraHeaders, headerGetter);
    const span = this.tracer.startSpan(
      `run/${envelope.task}`,
      { kind: SpanKind.CONSUMER, attributes: this.runAttributes(envelope, delivery, hostname) },
      parent,
    );
    try {
      // The body's own spans, and the tasks it sends (retries included), become children of this span.
      const outcome = await context.with(trace.setSpan(parent, span), execute);
      if (span.isRecording()) this.recordOutcome(span, outcome);
      return outcome;
    } catch (error) {
      recordError(span, error as Error);
      throw error;
    } finally {
      span.end();
    }
  }

  private runAttributes(envelope: TaskEnvelope, delivery: DeliveryInfo | null, hostname: string): Attributes {
    const attributes: Attributes = {
      [ACTION]: 'run',
      [TASK_NAME]: envelope.task,
      [MESSAGE_ID]: envelope.id,
      'messaging.conversation_id': envelope.correlationId,
      'messaging.system': this.system,
      'messaging.operation.type': 'process',
      'celery.hostname': hostname,
    };
    if (envelope.retries > 0) attributes['celery.retries'] = envelope.retries;
    if (envelope.eta) attributes['celery.eta'] = envelope.eta;
    if (envelope.expires) attributes['celery.expires'] = envelope.expires;
    if (envelope.replyTo) attributes['celery.reply_to'] = envelope.replyTo;
    if (delivery) {
      attributes['messaging.destination'] = delivery.routingKey || delivery.queue;
      attributes['messaging.destination.name'] = delivery.queue;
    }
    return attributes;
  }

  private recordOutcome(span: Span, outcome: TracedOutcome): void {
    switch (outcome.kind) {
      case 'success':
        span.setAttribute('celery.state', 'SUCCESS');
        return;
      case 'failure':
        span.setAttribute('celery.state', 'FAILURE');
        recordError(span, outcome.error);
        return;
      case 'retry':
        span.setAttribute('celery.state', 'RETRY');
        span.setAttribute('celery.retry.reason', describe(outcome.error));
        return;
      case 'terminated':
        span.setAttribute('celery.state', 'REVOKED');
        span.setAttribute('celery.revoked.reason', 'terminated');
        span.setAttribute('celery.terminated.signal', outcome.signum);
        return;
      case 'ignored':
        span.setAttribute('celery.state', 'IGNORED');
        return;
      case 'rejected':
        span.setAttribute('celery.state', 'REJECTED');
        span.setAttribute('celery.reject.reason', outcome.reason);
        return;
      case 'requeue':
        // The outcome could not be recorded: the message goes back, and the run will happen again.
        span.setAttribute('celery.state', 'REQUEUED');
        recordError(span, outcome.error);
        return;
    }
  }
}
