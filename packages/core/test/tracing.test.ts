import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { App, type BoundTask } from '@queue/core';
import type { MemoryTransport } from '@queue/core/testing';
import type { WireMessage } from '@queue/core/transport';
import { testApp, waitFor } from './helpers';

/** OpenTelemetry spans of sends and runs (App option `tracing`), on the memory transport. */

/** `add.delay(2, 3)` as Celery 5.2 publishes it. */
const celeryAdd = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'celery52-task-add.json'), 'utf8')) as {
  headers: Record<string, unknown> & { id: string };
  body: string;
};

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  // What an application's SDK set-up does (NodeSDK / NodeTracerProvider.register()).
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

afterAll(async () => {
  trace.disable();
  context.disable();
  propagation.disable();
  await provider.shutdown();
});

const apps: App[] = [];
function tracedApp(tracing = true): App {
  const app = testApp({ tracing, setAsCurrent: false });
  apps.push(app);
  return app;
}

beforeEach(() => exporter.reset());
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close({ timeoutMs: 1000 })));
});

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const named = (name: string): ReadableSpan[] => spans().filter((span) => span.name === name);
function one(name: string): ReadableSpan {
  const found = named(name);
  if (found.length !== 1) throw new Error(`expected one span ${name}, got ${spans().map((s) => s.name)}`);
  return found[0]!;
}
const traceparentOf = (span: ReadableSpan) =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

describe('tracing: true', () => {
  test('a send is a PRODUCER span and the run a CONSUMER child in the same trace, named as Celery’s', async () => {
    const app = tracedApp();
    const seen: Array<Readonly<Record<string, unknown>>> = [];
    app.task({ name: 't.add', bind: true }, (self: BoundTask, a: number, b: number) => {
      seen.push(self.request.headers);
      return a + b;
    });
    await app.worker({ concurrency: 2 }).start();
    const result = await app.sendTask('t.add', [2, 3]);
    expect(await result.get({ timeout: 5 })).toBe(5);
    await waitFor(() => named('run/t.add').length === 1);

    const producer = one('apply_async/t.add');
    const consumer = one('run/t.add');
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(producer.attributes).toMatchObject({
      'celery.action': 'apply_async',
      'celery.task_name': 't.add',
      'messaging.message_id': result.id,
      'messaging.destination': app.defaultQueue,
    });
    expect(consumer.attributes).toMatchObject({
      'celery.action': 'run',
      'celery.task_name': 't.add',
      'messaging.message_id': result.id,
      'celery.state': 'SUCCESS',
      'messaging.destination.name': app.defaultQueue,
    });
    expect(consumer.status.code).toBe(SpanStatusCode.UNSET);
    // The context travels as a message header, where the Python instrumentation reads it.
    expect(seen[0]).toMatchObject({ traceparent: traceparentOf(producer) });
  });

  test('the traceparent header is on the wire (the encoded message in the broker)', async () => {
    const app = tracedApp();
    await app.sendTask('t.nobody', [1]); // no worker: the message stays queued
    const [message] = (app.transport as MemoryTransport).broker.messages(app.defaultQueue);
    const producer = one('apply_async/t.nobody');
    expect(message!.headers.traceparent).toBe(traceparentOf(producer));
    expect(message!.headers).toMatchObject({
      task: 't.nobody',
      id: producer.attributes['messaging.message_id'],
    });
  });

  test('a send made inside a span joins its trace; spans made in the body are children of the run', async () => {
    const app = tracedApp();
    const tracer = trace.getTracer('test');
    app.task({ name: 't.inner' }, () => tracer.startActiveSpan('inner-work', (span) => span.end()));
    await app.worker().start();
    const root = tracer.startSpan('http-request');
    const result = await context.with(trace.setSpan(context.active(), root), () =>
      app.sendTask('t.inner', []),
    );
    root.end();
    await result.get({ timeout: 5 });
    await waitFor(() => named('run/t.inner').length === 1);

    const producer = one('apply_async/t.inner');
    const consumer = one('run/t.inner');
    const inner = one('inner-work');
    const traceId = root.spanContext().traceId;
    expect([producer, consumer, inner].map((span) => span.spanContext().traceId)).toEqual([
      traceId,
      traceId,
      traceId,
    ]);
    expect(producer.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(inner.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
  });

  test('a failing task records the exception and sets the ERROR status', async () => {
    const app = tracedApp();
    app.task({ name: 't.boom' }, () => {
      throw new TypeError('kaboom');
    });
    await app.worker().start();
    const result = await app.sendTask('t.boom', []);
    await expect(result.get({ timeout: 5 })).rejects.toThrow(/kaboom/);
    await waitFor(() => named('run/t.boom').length === 1);

    const consumer = one('run/t.boom');
    expect(consumer.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TypeError: kaboom' });
    expect(consumer.attributes['celery.state']).toBe('FAILURE');
    const exception = consumer.events.find((event) => event.name === 'exception');
    expect(exception?.attributes).toMatchObject({
      'exception.type': 'TypeError',
      'exception.message': 'kaboom',
    });
    expect(String(exception?.attributes?.['exception.stacktrace'])).toMatch(/kaboom/);
  });

  test('a retry is sent from inside the run: every attempt stays in the first send’s trace', async () => {
    const app = tracedApp();
    let attempts = 0;
    app.task({ name: 't.flaky', bind: true, maxRetries: 3 }, (self: BoundTask) => {
      attempts += 1;
      if (attempts < 2) throw self.retry({ countdown: 0, exc: new Error('not yet') });
      return 'done';
    });
    await app.worker().start();
    const result = await app.sendTask('t.flaky', []);
    expect(await result.get({ timeout: 5 })).toBe('done');
    await waitFor(() => named('run/t.flaky').length === 2);

    const [firstSend, retrySend] = named('apply_async/t.flaky').sort(
      (a, b) => Number(a.parentSpanContext !== undefined) - Number(b.parentSpanContext !== undefined),
    );
    const runs = named('run/t.flaky');
    const firstRun = runs.find((span) => span.attributes['celery.state'] === 'RETRY')!;
    const secondRun = runs.find((span) => span.attributes['celery.state'] === 'SUCCESS')!;
    expect(firstRun.attributes['celery.retry.reason']).toBe('Error: not yet');
    expect(firstRun.parentSpanContext?.spanId).toBe(firstSend!.spanContext().spanId);
    expect(retrySend!.parentSpanContext?.spanId).toBe(firstRun.spanContext().spanId);
    expect(secondRun.parentSpanContext?.spanId).toBe(retrySend!.spanContext().spanId);
    expect(secondRun.attributes['celery.retries']).toBe(1);
    expect(new Set(spans().map((span) => span.spanContext().traceId)).size).toBe(1);
  });

  test('a message from a Python client with a traceparent header continues that trace', async () => {
    const app = tracedApp();
    app.task({ name: 'proj.tasks.add' }, (a: number, b: number) => a + b);
    const worker = app.worker();
    const finished = new Promise((resolve) => worker.once('task-succeeded', resolve));
    await worker.start();
    // Celery 5.2's message for add.delay(2, 3), plus what opentelemetry-instrumentation-celery injects.
    const pythonTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const pythonSpanId = '00f067aa0ba902b7';
    const message: WireMessage = {
      headers: {
        ...celeryAdd.headers,
        traceparent: `00-${pythonTraceId}-${pythonSpanId}-01`,
        tracestate: 'py=1',
      },
      properties: {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        correlationId: celeryAdd.headers.id,
      },
      body: Buffer.from(celeryAdd.body),
    };
    (app.transport as MemoryTransport).broker.enqueue(app.defaultQueue, message);
    await finished;
    await waitFor(() => named('run/proj.tasks.add').length === 1);

    const consumer = one('run/proj.tasks.add');
    expect(consumer.spanContext().traceId).toBe(pythonTraceId);
    expect(consumer.parentSpanContext).toMatchObject({ spanId: pythonSpanId, isRemote: true });
    expect(consumer.spanContext().traceState?.get('py')).toBe('1');
  });

  test('a header that is not a valid traceparent starts a new trace instead of failing the run', async () => {
    const app = tracedApp();
    app.task({ name: 't.ok' }, () => 'ok');
    await app.worker().start();
    const result = await app.sendTask('t.ok', [], {}, { headers: { traceparent: 'garbage' } });
    // Our own send replaces it; a foreign message with garbage is checked below through the broker.
    expect(await result.get({ timeout: 5 })).toBe('ok');
    const message: WireMessage = {
      headers: { ...celeryAdd.headers, task: 't.ok', id: 'f-1', traceparent: 'garbage' },
      properties: { contentType: 'application/json', contentEncoding: 'utf-8', correlationId: 'f-1' },
      body: Buffer.from(celeryAdd.body.replace('[2, 3]', '[]')),
    };
    (app.transport as MemoryTransport).broker.enqueue(app.defaultQueue, message);
    await waitFor(() => named('run/t.ok').length === 2);
    const foreign = named('run/t.ok').find((span) => span.attributes['messaging.message_id'] === 'f-1')!;
    expect(foreign.parentSpanContext).toBeUndefined();
    expect(foreign.attributes['celery.state']).toBe('SUCCESS');
  });

  test('eager mode gives the run span too', async () => {
    const app = testApp({ tracing: true, setAsCurrent: false, taskAlwaysEager: true });
    apps.push(app);
    app.task({ name: 't.eager' }, () => 1);
    await app.sendTask('t.eager', []);
    expect(one('run/t.eager').kind).toBe(SpanKind.CONSUMER);
  });
});

describe('tracing off (the default)', () => {
  test('no span and no traceparent header, even with an SDK registered', async () => {
    const app = tracedApp(false);
    expect(app.tracer).toBeUndefined();
    const seen: Array<Readonly<Record<string, unknown>>> = [];
    app.task({ name: 't.plain', bind: true }, (self: BoundTask) => void seen.push(self.request.headers));
    await app.worker().start();
    await (await app.sendTask('t.plain', [])).get({ timeout: 5 });
    expect(spans()).toEqual([]);
    expect(seen[0]).not.toHaveProperty('traceparent');
  });

  test('`tracing` must be a boolean', () => {
    expect(() => new App({ name: 'x', tracing: 'yes' as unknown as boolean, setAsCurrent: false })).toThrow(
      /tracing/,
    );
  });
});
