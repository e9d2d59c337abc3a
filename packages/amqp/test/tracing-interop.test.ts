import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import type { App } from '@queue/core';
import {
  requireCelery,
  runPython,
  startCeleryWorker,
  type Spawned,
} from '../../../test-support/python-celery';
import { AMQP_URL, amqpApp, BrokerAdmin, uniqueQueue, waitFor } from './helpers';

/**
 * Traces that cross RabbitMQ between us and Python Celery (Debian's 5.2). The Python OpenTelemetry packages
 * are not available here, so the Python side does by hand what opentelemetry-instrumentation-celery does
 * (see the fixtures): a producer's `traceparent` goes into the protocol-v2 headers, and a run reads it from
 * `task.request`. Both directions use the real wire.
 */
const FIXTURES = join(__dirname, 'fixtures');
requireCelery();
jest.setTimeout(90_000);

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

afterAll(async () => {
  trace.disable();
  context.disable();
  propagation.disable();
  await provider.shutdown();
});

const named = (name: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((span) => span.name === name);

describe('our traced send reaches a Python Celery worker', () => {
  const queue = uniqueQueue('trace-to-python');
  let worker: Spawned | undefined;
  let app: App | undefined;
  let admin: BrokerAdmin;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    worker = await startCeleryWorker({
      cwd: FIXTURES,
      app: 'celery_app',
      queue,
      hostname: `py-${queue}@%h`,
      env: { AMQP_URL },
    });
    app = amqpApp(queue, { tracing: true });
  });

  afterAll(async () => {
    await app?.close({ timeoutMs: 1000 });
    await worker?.stop();
    await admin.cleanup(queue);
    await admin.close();
  });

  test('the Python task finds our traceparent where the instrumentation reads it (task.request)', async () => {
    const result = await app!.sendTask('py.traceparent', []);
    const [traceparent] = (await result.get({ timeout: 20 })) as [string | null, string | null];
    const [producer] = named('apply_async/py.traceparent');
    const { traceId, spanId } = producer!.spanContext();
    expect(traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });
});

describe('a Python client’s traced send reaches our worker', () => {
  const queue = uniqueQueue('trace-from-python');
  let app: App;
  let admin: BrokerAdmin;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    app = amqpApp(queue, { tracing: true });
    app.task({ name: 'it.echo' }, (text: string) => text);
    await app.worker({ concurrency: 2 }).start();
  });

  afterAll(async () => {
    await app.close({ timeoutMs: 2000 });
    await admin.cleanup(queue);
    await admin.close();
  });

  test('our run span continues the Python trace, as a child of its producer span', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parentId = 'b7ad6b7169203331';
    const run = await runPython(
      [join(FIXTURES, 'celery_traced_client.py'), queue, `00-${traceId}-${parentId}-01`, 'vendor=py'],
      { cwd: FIXTURES, env: { AMQP_URL }, timeoutMs: 60_000 },
    );
    if (run.status !== 0) throw new Error(`celery client failed (${run.status}): ${run.stderr}`);
    expect(run.stdout.trim()).toBe('from python');
    await waitFor(() => named('run/it.echo').length === 1);
    const [consumer] = named('run/it.echo');
    expect(consumer!.spanContext().traceId).toBe(traceId);
    expect(consumer!.parentSpanContext).toMatchObject({ spanId: parentId, isRemote: true });
    expect(consumer!.spanContext().traceState?.get('vendor')).toBe('py');
    expect(consumer!.attributes).toMatchObject({
      'celery.action': 'run',
      'celery.task_name': 'it.echo',
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': queue,
      'celery.state': 'SUCCESS',
    });
  });
});
