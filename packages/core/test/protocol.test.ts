/**
 * Protocol v2 fixtures, written by hand from PROTOCOL.md (sections 2.2–2.4 and 2.8): task messages as Celery 5.2 and
 * 5.3 publish them, rpc:// result bodies, and hostile inputs that the codec must refuse with a stable reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemoteTaskError, type JsonValue, type TaskEnvelope } from '@queue/core';
import {
  DEFAULT_JSON_LIMITS,
  decodeStateMessage,
  decodeTaskMessage,
  deserializeError,
  EMPTY_EMBED,
  encodeStateMessage,
  encodeTaskMessage,
  MessageDecodeError,
  parseJsonBody,
  serializeError,
  type JsonLimits,
  type MessageProperties,
  type MessageRejectReason,
  type StateMessage,
  type WireMessage,
} from '@queue/core/transport';

// ---- fixtures ----

/** AMQP basic properties as kombu names them (what a Python publisher sets). */
interface FixtureProperties {
  content_type: string;
  content_encoding: string;
  correlation_id?: string;
  reply_to?: string;
  delivery_mode?: 1 | 2;
  priority?: number;
  expiration?: string;
}

interface MessageFixture {
  description: string;
  properties: FixtureProperties;
  headers?: Record<string, unknown>;
  /** The body exactly as the publisher's JSON encoder wrote it. */
  body: string;
}

function loadFixture(name: string): MessageFixture {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as MessageFixture;
}

/** The message as our transport hands it over (amqplib's camelCase property names, body as bytes). */
function toWire(fixture: MessageFixture): WireMessage {
  const p = fixture.properties;
  const properties: MessageProperties = { contentType: p.content_type, contentEncoding: p.content_encoding };
  if (p.correlation_id !== undefined) properties.correlationId = p.correlation_id;
  if (p.reply_to !== undefined) properties.replyTo = p.reply_to;
  if (p.delivery_mode !== undefined) properties.deliveryMode = p.delivery_mode;
  if (p.priority !== undefined) properties.priority = p.priority;
  if (p.expiration !== undefined) properties.expiration = p.expiration;
  return {
    headers: structuredClone(fixture.headers ?? {}),
    properties,
    body: Buffer.from(fixture.body, 'utf8'),
  };
}

const CELERY52 = loadFixture('celery52-task-add.json');
const CELERY53 = loadFixture('celery53-task-report.json');

const ADD_ID = '0d4a6f4e-3c1b-4f7e-9b2a-6c8d1e2f3a4b';
const REPORT_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

/** The headers PROTOCOL.md 2.3 lists for protocol 2 (5.3+ additions excluded), each with its wire type. */
const isIso = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isLimit = (v: unknown) => v === null || (typeof v === 'number' && v > 0);
const PROTOCOL_V2_HEADER_TYPES: Record<string, (value: unknown) => boolean> = {
  lang: (v) => typeof v === 'string',
  task: (v) => typeof v === 'string' && v.length > 0,
  id: (v) => typeof v === 'string' && v.length > 0,
  shadow: (v) => v === null || typeof v === 'string',
  eta: (v) => v === null || isIso(v),
  expires: (v) => v === null || isIso(v),
  group: (v) => v === null || typeof v === 'string',
  group_index: (v) => v === null || isInt(v),
  retries: isInt,
  timelimit: (v) => Array.isArray(v) && v.length === 2 && isLimit(v[0]) && isLimit(v[1]),
  root_id: (v) => typeof v === 'string' && v.length > 0,
  parent_id: (v) => v === null || typeof v === 'string',
  argsrepr: (v) => typeof v === 'string' && v.length <= 1024,
  kwargsrepr: (v) => typeof v === 'string' && v.length <= 1024,
  origin: (v) => typeof v === 'string',
  ignore_result: (v) => typeof v === 'boolean',
};

/** Left out when null (Celery reads them with `.get()`): fewer fields for the broker per message. */
const OMITTED_WHEN_NULL = ['shadow', 'eta', 'expires', 'group', 'group_index', 'parent_id'];

function expectProtocolV2Headers(headers: Record<string, unknown>): void {
  for (const [name, hasType] of Object.entries(PROTOCOL_V2_HEADER_TYPES)) {
    const present = Object.hasOwn(headers, name);
    expect([name, present || OMITTED_WHEN_NULL.includes(name)]).toEqual([name, true]);
    if (present) expect([name, hasType(headers[name]), headers[name] !== null]).toEqual([name, true, true]);
  }
}

/** A header table as we encode it: the same, but without the optional headers that are null. */
function withoutNullOptionals(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name, value]) => !(OMITTED_WHEN_NULL.includes(name) && value === null)),
  );
}

/** The error a decode throws; fails the test when the message is accepted or something else is thrown. */
function decodeError(message: WireMessage, limits?: JsonLimits): MessageDecodeError {
  let thrown: unknown;
  try {
    decodeTaskMessage(message, limits);
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error('the message was decoded, a MessageDecodeError was expected');
  expect(thrown).toBeInstanceOf(MessageDecodeError);
  return thrown as MessageDecodeError;
}

/** The Celery 5.2 fixture with some parts replaced; a header set to `undefined` is removed. */
function variant(
  change: {
    headers?: Record<string, unknown>;
    properties?: Partial<MessageProperties>;
    body?: string | Buffer;
  } = {},
): WireMessage {
  const message = toWire(CELERY52);
  for (const [key, value] of Object.entries(change.headers ?? {})) {
    if (value === undefined) delete message.headers[key];
    else message.headers[key] = value;
  }
  Object.assign(message.properties, change.properties ?? {});
  if (change.body !== undefined)
    message.body = Buffer.isBuffer(change.body) ? change.body : Buffer.from(change.body, 'utf8');
  return message;
}

function nestedArrays(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

function nestedObjects(depth: number): string {
  return '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
}

afterEach(() => {
  // No test may leave Object.prototype polluted (it would also make later assertions meaningless).
  for (const key of ['polluted', 'isAdmin', 'callbacks'])
    expect(Object.hasOwn(Object.prototype, key)).toBe(false);
});

// ---- task messages ----

describe('task message fixtures decode to the documented envelope', () => {
  test('Celery 5.2: proj.tasks.add(2, 3) with every protocol-2 header', () => {
    const envelope = decodeTaskMessage(toWire(CELERY52));
    expect(envelope).toStrictEqual<TaskEnvelope>({
      id: ADD_ID,
      task: 'proj.tasks.add',
      args: [2, 3],
      kwargs: {},
      embed: { callbacks: null, errbacks: null, chain: null, chord: null },
      retries: 0,
      eta: null,
      expires: null,
      timelimit: [null, null],
      rootId: ADD_ID,
      parentId: null,
      group: null,
      groupIndex: null,
      shadow: null,
      argsrepr: '(2, 3)',
      kwargsrepr: '{}',
      origin: 'gen1234@host',
      ignoreResult: false,
      lang: 'py',
      replyTo: '5f2b3a9c-8e1d-3b7a-9c4e-1a2b3c4d5e6f',
      correlationId: ADD_ID,
      priority: 0,
      extraHeaders: {},
    });
  });

  test('Celery 5.3: kwargs with kombu tags, eta/expires with offsets, retries, time limits, canvas, user header', () => {
    const envelope = decodeTaskMessage(toWire(CELERY53));
    const signature = (task: string, kwargs: Record<string, JsonValue> = {}) => ({
      task,
      args: [],
      kwargs,
      options: {},
      subtask_type: null,
      immutable: false,
    });
    expect(envelope).toStrictEqual<TaskEnvelope>({
      id: REPORT_ID,
      task: 'proj.tasks.send_report',
      args: ['weekly'],
      // kombu ≥ 5.3 tags are read back as the plain strings kombu 5.2 would have sent.
      kwargs: {
        recipients: ['ops@example.com'],
        since: '2024-04-24T00:00:00+00:00',
        budget: '12.50',
        report_id: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
      },
      embed: {
        callbacks: [signature('proj.tasks.notify', { channel: '#ops' })],
        errbacks: null,
        // reverse order, as received: the worker pops the last one
        chain: [signature('proj.tasks.archive'), signature('proj.tasks.compress')],
        chord: null,
      },
      retries: 2,
      eta: '2024-05-01T12:00:30.123456+00:00',
      expires: '2024-05-02T14:00:00+02:00',
      timelimit: [60, 45.5],
      rootId: '16fd2706-8baf-433b-82eb-8c7fada847da',
      parentId: '886313e1-3b8a-5372-9b90-0c9aee199e5d',
      group: 'e4eaaaf2-d142-11e1-b3e4-080027620cdd',
      groupIndex: 1,
      shadow: 'send_report[weekly]',
      argsrepr: "('weekly',)",
      kwargsrepr: CELERY53.headers!.kwargsrepr as string,
      origin: 'gen42@worker-3',
      ignoreResult: true,
      lang: 'py',
      replyTo: 'a3bb189e-8bf9-3888-9912-ace4e6543002',
      correlationId: REPORT_ID,
      priority: 5,
      // 5.3's replaced_task_nesting / stamped_headers / stamps are protocol headers, not user headers
      extraHeaders: { tenant: 'acme' },
    });
  });

  test('string headers that arrive as bytes (AMQP byte arrays) are read as UTF-8 text', () => {
    const envelope = decodeTaskMessage(
      variant({
        headers: {
          task: Buffer.from('proj.tasks.add'),
          id: Buffer.from(ADD_ID),
          origin: Buffer.from('gen1@h'),
        },
      }),
    );
    expect([envelope.task, envelope.id, envelope.origin]).toEqual(['proj.tasks.add', ADD_ID, 'gen1@h']);
  });

  test('a minimal message from another client gets the documented defaults', () => {
    const message: WireMessage = {
      headers: { task: 'proj.tasks.add', id: 'min-1' },
      properties: { contentType: 'application/json', contentEncoding: 'utf-8' },
      body: Buffer.from('[[1, 2], {"x": true}, null]'),
    };
    const envelope = decodeTaskMessage(message);
    expect(envelope).toStrictEqual<TaskEnvelope>({
      id: 'min-1',
      task: 'proj.tasks.add',
      args: [1, 2],
      kwargs: { x: true },
      embed: EMPTY_EMBED,
      retries: 0,
      eta: null,
      expires: null,
      timelimit: [null, null],
      rootId: 'min-1',
      parentId: null,
      group: null,
      groupIndex: null,
      shadow: null,
      argsrepr: '[1,2]',
      kwargsrepr: '{"x":true}',
      origin: '',
      ignoreResult: false,
      lang: 'py',
      replyTo: '',
      correlationId: 'min-1',
      priority: 0,
      extraHeaders: {},
    });
  });

  test('broker headers (x-death, x-delivery-count…) are not kept as user headers', () => {
    const envelope = decodeTaskMessage(
      variant({
        headers: { 'x-death': [{ count: 1, reason: 'expired' }], 'x-delivery-count': 2, tenant: 'acme' },
      }),
    );
    expect(envelope.extraHeaders).toStrictEqual({ tenant: 'acme' });
  });

  test.each(['UTF-8', 'utf8'])('content encoding %s is accepted as UTF-8', (encoding) => {
    expect(decodeTaskMessage(variant({ properties: { contentEncoding: encoding } })).args).toEqual([2, 3]);
  });
});

describe('task messages round-trip and encode as PROTOCOL.md lists', () => {
  test.each([
    ['celery52-task-add.json', CELERY52],
    ['celery53-task-report.json', CELERY53],
  ])('%s: decode → encode → decode gives the same envelope', (_name, fixture) => {
    const first = decodeTaskMessage(toWire(fixture));
    const again = decodeTaskMessage(encodeTaskMessage(first));
    expect(again).toStrictEqual(first);
  });

  test('Celery 5.2 fixture re-encodes to the same headers, properties and body', () => {
    const encoded = encodeTaskMessage(decodeTaskMessage(toWire(CELERY52)));
    expect(encoded.headers).toStrictEqual(withoutNullOptionals(CELERY52.headers!));
    expect(encoded.properties).toStrictEqual<MessageProperties>({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      correlationId: ADD_ID,
      replyTo: '5f2b3a9c-8e1d-3b7a-9c4e-1a2b3c4d5e6f',
      deliveryMode: 2,
      priority: 0,
    });
    expect(JSON.parse(encoded.body.toString('utf8'))).toStrictEqual(JSON.parse(CELERY52.body));
  });

  test('Celery 5.3 fixture re-encodes every protocol-2 header and the user header unchanged', () => {
    const encoded = encodeTaskMessage(decodeTaskMessage(toWire(CELERY53)));
    expectProtocolV2Headers(encoded.headers);
    const expected = withoutNullOptionals(CELERY53.headers!);
    for (const name of [...Object.keys(PROTOCOL_V2_HEADER_TYPES), 'tenant']) {
      expect([name, encoded.headers[name]]).toStrictEqual([name, expected[name]]);
    }
    expect(encoded.properties.priority).toBe(5);
    const [args, kwargs, embed] = JSON.parse(encoded.body.toString('utf8'));
    expect(args).toEqual(['weekly']);
    // sent as plain JSON: no kombu tags (PROTOCOL.md, "our own choices")
    expect(kwargs.since).toBe('2024-04-24T00:00:00+00:00');
    expect(JSON.stringify(kwargs)).not.toContain('__type__');
    expect(embed.chain.map((s: { task: string }) => s.task)).toEqual([
      'proj.tasks.archive',
      'proj.tasks.compress',
    ]);
  });

  const handMade: TaskEnvelope = {
    id: 'b1f0c7e2-1111-4a4a-8888-000000000001',
    task: 'billing.charge',
    args: ['cust-1', 1999],
    kwargs: { currency: 'EUR' },
    embed: {
      callbacks: null,
      errbacks: [{ task: 'billing.refund', args: [], kwargs: {} }],
      chain: null,
      chord: null,
    },
    retries: 1,
    eta: '2030-01-01T00:00:00+00:00',
    expires: null,
    timelimit: [30, null],
    rootId: 'b1f0c7e2-1111-4a4a-8888-000000000000',
    parentId: null,
    group: null,
    groupIndex: null,
    shadow: null,
    argsrepr: '["cust-1",1999]',
    kwargsrepr: '{"currency":"EUR"}',
    origin: 'gen7@node',
    ignoreResult: false,
    lang: 'py',
    replyTo: '3c1e9f7a-0000-3000-8000-000000000000',
    correlationId: 'b1f0c7e2-1111-4a4a-8888-000000000001',
    priority: 3,
    extraHeaders: { request_id: 'req-9' },
  };

  test('an envelope encodes to every protocol-2 header with the right type and value', () => {
    const { headers } = encodeTaskMessage(handMade);
    expectProtocolV2Headers(headers);
    expect(headers).toStrictEqual({
      request_id: 'req-9',
      lang: 'py',
      task: 'billing.charge',
      id: handMade.id,
      eta: '2030-01-01T00:00:00+00:00',
      retries: 1,
      timelimit: [30, null],
      root_id: handMade.rootId,
      argsrepr: '["cust-1",1999]',
      kwargsrepr: '{"currency":"EUR"}',
      origin: 'gen7@node',
      ignore_result: false,
    });
  });

  test('a user header never stands in for a protocol header left out as null', () => {
    const { headers } = encodeTaskMessage({
      ...handMade,
      eta: null,
      extraHeaders: { eta: '2000-01-01T00:00:00Z', parent_id: 'forged', tenant: 'acme' },
    });
    expect(Object.hasOwn(headers, 'eta')).toBe(false);
    expect(Object.hasOwn(headers, 'parent_id')).toBe(false);
    expect(headers.tenant).toBe('acme');
    expect(decodeTaskMessage({ ...toWire(CELERY52), headers }).eta).toBeNull();
  });

  test('an envelope encodes to the AMQP properties of 2.2 and a three-element JSON body', () => {
    const { properties, body } = encodeTaskMessage(handMade);
    expect(properties).toStrictEqual<MessageProperties>({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      correlationId: handMade.id,
      replyTo: handMade.replyTo,
      deliveryMode: 2,
      priority: 3,
    });
    const parsed = JSON.parse(body.toString('utf8'));
    expect(Array.isArray(parsed)).toBe(true);
    expect(parsed).toHaveLength(3);
    expect(parsed[0]).toEqual(['cust-1', 1999]);
    expect(parsed[1]).toEqual({ currency: 'EUR' });
    expect(Object.keys(parsed[2]).sort()).toEqual(['callbacks', 'chain', 'chord', 'errbacks']);
    expect(parsed[2].errbacks).toEqual([{ task: 'billing.refund', args: [], kwargs: {} }]);
  });

  test('user headers cannot override protocol headers', () => {
    const { headers } = encodeTaskMessage({
      ...handMade,
      extraHeaders: { task: 'evil.task', id: 'other', retries: 99, ok: 1 },
    });
    expect([headers.task, headers.id, headers.retries, headers.ok]).toEqual([
      'billing.charge',
      handMade.id,
      1,
      1,
    ]);
  });

  test('non-JSON argument values are sent as plain JSON (dates as ISO strings), never kombu tags', () => {
    const { body } = encodeTaskMessage({ ...handMade, args: [new Date(Date.UTC(2024, 0, 2)) as never] });
    const text = body.toString('utf8');
    expect(JSON.parse(text)[0]).toEqual(['2024-01-02T00:00:00.000Z']);
    expect(text).not.toContain('__type__');
  });
});

describe('hostile task messages are refused with a stable reason', () => {
  const cases: Array<[string, () => WireMessage, MessageRejectReason]> = [
    ['body is not JSON', () => variant({ body: 'proj.tasks.add(2, 3)' }), 'invalid-json'],
    ['body is truncated JSON', () => variant({ body: '[[2, 3], {}, {"callbacks": nu' }), 'invalid-json'],
    ['body is empty', () => variant({ body: '' }), 'invalid-json'],
    [
      'body is pickle bytes',
      () => variant({ body: Buffer.from([0x80, 0x04, 0x95, 0x00, 0x2e]) }),
      'invalid-json',
    ],
    ['body is a JSON object', () => variant({ body: '{"args": [2, 3], "kwargs": {}}' }), 'invalid-body'],
    ['body is a JSON string', () => variant({ body: '"[[2, 3], {}, {}]"' }), 'invalid-body'],
    ['body is null', () => variant({ body: 'null' }), 'invalid-body'],
    ['body is a one-element array', () => variant({ body: '[[2, 3]]' }), 'invalid-body'],
    ['body is a four-element array', () => variant({ body: '[[2, 3], {}, {}, {}]' }), 'invalid-body'],
    [
      'body is protocol 1 (a dict with task/args)',
      () => variant({ body: '{"task": "proj.tasks.add", "id": "x", "args": [2, 3]}' }),
      'invalid-body',
    ],
    ['args is an object', () => variant({ body: '[{"0": 2}, {}, null]' }), 'invalid-body'],
    ['args is a string', () => variant({ body: '["2, 3", {}, null]' }), 'invalid-body'],
    ['args is null', () => variant({ body: '[null, {}, null]' }), 'invalid-body'],
    ['kwargs is an array', () => variant({ body: '[[2, 3], [], null]' }), 'invalid-body'],
    ['kwargs is null', () => variant({ body: '[[2, 3], null, null]' }), 'invalid-body'],
    ['kwargs is a string', () => variant({ body: '[[2, 3], "a=1", null]' }), 'invalid-body'],
    ['embed is an array', () => variant({ body: '[[2, 3], {}, []]' }), 'invalid-body'],
    [
      'embed.callbacks is not a list',
      () => variant({ body: '[[2, 3], {}, {"callbacks": "proj.tasks.x"}]' }),
      'invalid-body',
    ],
    [
      'embed.chain is an object',
      () => variant({ body: '[[2, 3], {}, {"chain": {"task": "x"}}]' }),
      'invalid-body',
    ],
    ['no task header', () => variant({ headers: { task: undefined } }), 'missing-header'],
    ['task header is null', () => variant({ headers: { task: null } }), 'missing-header'],
    ['task header is a number', () => variant({ headers: { task: 42 } }), 'invalid-header'],
    ['task header is a list', () => variant({ headers: { task: ['proj.tasks.add'] } }), 'invalid-header'],
    [
      'task header is an object',
      () => variant({ headers: { task: { name: 'proj.tasks.add' } } }),
      'invalid-header',
    ],
    ['task header is empty', () => variant({ headers: { task: '' } }), 'invalid-header'],
    ['task header is a boolean', () => variant({ headers: { task: true } }), 'invalid-header'],
    [
      'no id header (even with a correlation id)',
      () => variant({ headers: { id: undefined } }),
      'missing-header',
    ],
    ['id header is a number', () => variant({ headers: { id: 12345 } }), 'invalid-header'],
    [
      'pickle content type',
      () => variant({ properties: { contentType: 'application/x-python-serialize' } }),
      'unsupported-content-type',
    ],
    [
      'yaml content type',
      () => variant({ properties: { contentType: 'application/x-yaml' } }),
      'unsupported-content-type',
    ],
    [
      'msgpack content type',
      () => variant({ properties: { contentType: 'application/x-msgpack' } }),
      'unsupported-content-type',
    ],
    [
      'raw binary content type',
      () => variant({ properties: { contentType: 'application/data' } }),
      'unsupported-content-type',
    ],
    [
      'no content type',
      () => variant({ properties: { contentType: undefined as unknown as string } }),
      'unsupported-content-type',
    ],
    [
      'binary content encoding',
      () => variant({ properties: { contentEncoding: 'binary' } }),
      'unsupported-content-encoding',
    ],
    [
      'latin-1 content encoding',
      () => variant({ properties: { contentEncoding: 'latin-1' } }),
      'unsupported-content-encoding',
    ],
    [
      'gzip compression header',
      () => variant({ headers: { compression: 'application/x-gzip' } }),
      'unsupported-content-encoding',
    ],
    [
      'bzip2 compression header',
      () => variant({ headers: { compression: 'application/x-bz2' } }),
      'unsupported-content-encoding',
    ],
    ['retries is negative', () => variant({ headers: { retries: -1 } }), 'invalid-header'],
    ['retries is a string', () => variant({ headers: { retries: '1' } }), 'invalid-header'],
    ['retries is fractional', () => variant({ headers: { retries: 1.5 } }), 'invalid-header'],
    ['eta is not a date', () => variant({ headers: { eta: 'tomorrow' } }), 'invalid-header'],
    ['eta is a number', () => variant({ headers: { eta: 1714564800 } }), 'invalid-header'],
    ['expires is not a date', () => variant({ headers: { expires: 'never' } }), 'invalid-header'],
    ['timelimit is a number', () => variant({ headers: { timelimit: 60 } }), 'invalid-header'],
    ['timelimit has three parts', () => variant({ headers: { timelimit: [60, 30, 10] } }), 'invalid-header'],
    ['timelimit hard is negative', () => variant({ headers: { timelimit: [-1, null] } }), 'invalid-header'],
    ['timelimit soft is a string', () => variant({ headers: { timelimit: [null, '30'] } }), 'invalid-header'],
    ['group_index is a string', () => variant({ headers: { group_index: '1' } }), 'invalid-header'],
    ['root_id is a number', () => variant({ headers: { root_id: 7 } }), 'invalid-header'],
    ['parent_id is an object', () => variant({ headers: { parent_id: {} } }), 'invalid-header'],
    ['origin is a list', () => variant({ headers: { origin: ['gen1@host'] } }), 'invalid-header'],
  ];

  test.each(cases)('%s', (_name, build, reason) => {
    expect(decodeError(build()).reason).toBe(reason);
  });

  test('the reason is part of the error message, and the error is a MessageDecodeError', () => {
    const error = decodeError(variant({ properties: { contentType: 'application/x-python-serialize' } }));
    expect(error.name).toBe('MessageDecodeError');
    expect(error.code).toBe('MESSAGE_DECODE_FAILED');
    expect(error.message).toMatch(/^unsupported-content-type: /);
  });
});

describe('JSON limits (DEFAULT_JSON_LIMITS)', () => {
  const emptyBody = '[[], {}, null]';

  test('a body one byte over maxBytes is refused before parsing; exactly maxBytes is accepted', () => {
    const padded = (size: number) => Buffer.from(emptyBody.padEnd(size, ' '), 'utf8');
    expect(decodeError(variant({ body: padded(DEFAULT_JSON_LIMITS.maxBytes + 1) })).reason).toBe(
      'payload-too-large',
    );
    expect(decodeTaskMessage(variant({ body: padded(DEFAULT_JSON_LIMITS.maxBytes) })).args).toEqual([]);
  });

  test('an oversize body is refused even when it is not JSON (size is checked first)', () => {
    const body = Buffer.alloc(DEFAULT_JSON_LIMITS.maxBytes + 1, 0x80);
    expect(decodeError(variant({ body })).reason).toBe('payload-too-large');
  });

  test('custom limits are honoured', () => {
    const limits: JsonLimits = { maxBytes: 64, maxDepth: 3 };
    expect(decodeError(variant({ body: emptyBody.padEnd(65, ' ') }), limits).reason).toBe(
      'payload-too-large',
    );
    expect(decodeTaskMessage(variant({ body: '[[[1]], {}, null]' }), limits).args).toEqual([[1]]);
    expect(decodeError(variant({ body: '[[[[1]]], {}, null]' }), limits).reason).toBe('too-deeply-nested');
  });

  // The body array itself is level 1, so args nested n deep make the whole body n + 1 deep.
  test('arrays nested exactly maxDepth deep are accepted, one more is refused', () => {
    const max = DEFAULT_JSON_LIMITS.maxDepth;
    expect(decodeTaskMessage(variant({ body: `[${nestedArrays(max - 1)}, {}, null]` })).args).toHaveLength(1);
    expect(decodeError(variant({ body: `[${nestedArrays(max)}, {}, null]` })).reason).toBe(
      'too-deeply-nested',
    );
  });

  test('objects nested too deep in kwargs are refused', () => {
    const max = DEFAULT_JSON_LIMITS.maxDepth;
    expect(
      decodeTaskMessage(variant({ body: `[[], {"k": ${nestedObjects(max - 2)}}, null]` })).kwargs,
    ).toHaveProperty('k');
    expect(decodeError(variant({ body: `[[], {"k": ${nestedObjects(max - 1)}}, null]` })).reason).toBe(
      'too-deeply-nested',
    );
  });

  test('hostile nesting 200 000 deep is refused with a reason, not a stack overflow', () => {
    expect(decodeError(variant({ body: `[${nestedArrays(200_000)}, {}, null]` })).reason).toBe(
      'too-deeply-nested',
    );
    expect(decodeError(variant({ body: `[[], {"k": ${nestedObjects(200_000)}}, null]` })).reason).toBe(
      'too-deeply-nested',
    );
  });

  test.each(['set', 'datetime', 'bytes'])(
    'deep nesting hidden in a __type__ %s tag is still refused',
    (tag) => {
      const tagged = `{"__type__": "${tag}", "__value__": ${nestedArrays(200_000)}}`;
      expect(decodeError(variant({ body: `[[${tagged}], {}, null]` })).reason).toBe('too-deeply-nested');
      expect(() => parseJsonBody(Buffer.from(tagged))).toThrow(
        expect.objectContaining({ reason: 'too-deeply-nested' }),
      );
      const shallow = `{"__type__": "${tag}", "__value__": ${nestedArrays(DEFAULT_JSON_LIMITS.maxDepth + 1)}}`;
      expect(decodeError(variant({ body: `[[], {"k": ${shallow}}, null]` })).reason).toBe(
        'too-deeply-nested',
      );
    },
  );
});

describe('prototype pollution attempts', () => {
  test('__proto__ and constructor.prototype keys in kwargs are dropped', () => {
    const envelope = decodeTaskMessage(
      variant({
        body: '[[], {"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "n": 1}, null]',
      }),
    );
    expect(envelope.kwargs).toStrictEqual({ n: 1 });
    expect(Object.getPrototypeOf(envelope.kwargs)).toBe(Object.prototype);
    expect((envelope.kwargs as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('__proto__ keys nested in args and embed are dropped', () => {
    const envelope = decodeTaskMessage(
      variant({
        body: '[[{"__proto__": {"isAdmin": true}, "user": "eve"}], {}, {"__proto__": {"callbacks": [{"task": "evil"}]}}]',
      }),
    );
    const user = envelope.args[0] as Record<string, unknown>;
    expect(user).toStrictEqual({ user: 'eve' });
    expect(user.isAdmin).toBeUndefined();
    expect(envelope.embed.callbacks).toBeNull();
  });

  test('a __proto__ header (own key, as JSON.parse makes it) does not become the prototype of extraHeaders', () => {
    const headers = JSON.parse('{"__proto__": {"polluted": "yes", "tenant": "evil"}, "real": 1}');
    Object.assign(headers, CELERY52.headers);
    const envelope = decodeTaskMessage({ ...variant(), headers });
    expect(Object.getPrototypeOf(envelope.extraHeaders)).toBe(Object.prototype);
    expect(envelope.extraHeaders.polluted).toBeUndefined();
    expect(envelope.extraHeaders.tenant).toBeUndefined();
    expect(envelope.extraHeaders).toStrictEqual({ real: 1 });
    expect(encodeTaskMessage(envelope).headers.polluted).toBeUndefined();
  });

  test('a __proto__ header table decoded by plain assignment (amqplib) pollutes nothing global', () => {
    const message = variant();
    (message.headers as Record<string, unknown>)['__proto__'] = { polluted: 'yes' };
    const envelope = decodeTaskMessage(message);
    expect(Object.keys(envelope.extraHeaders)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('__proto__ in a result body is dropped', () => {
    const state = decodeStateMessage({
      headers: {},
      properties: { contentType: 'application/json', contentEncoding: 'utf-8', correlationId: 't' },
      body: Buffer.from(
        '{"task_id": "t", "status": "SUCCESS", "result": {"__proto__": {"polluted": 1}, "ok": 1}}',
      ),
    });
    expect(state?.result).toStrictEqual({ ok: 1 });
  });
});

// ---- rpc:// result messages ----

describe('rpc result fixtures', () => {
  const children: JsonValue[] = [[['9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d', null], null]];
  const expected: Array<[string, Omit<StateMessage, 'taskId'>]> = [
    ['rpc-success.json', { state: 'SUCCESS', result: 5, traceback: null, children }],
    ['rpc-progress.json', { state: 'PROGRESS', result: { percent: 40 }, traceback: null, children: [] }],
    [
      'rpc-started.json',
      { state: 'STARTED', result: { pid: 4711, hostname: 'celery@worker-1' }, traceback: null, children: [] },
    ],
    [
      'rpc-failure.json',
      {
        state: 'FAILURE',
        result: {
          exc_type: 'PaymentDeclined',
          exc_message: ['card declined', 402],
          exc_module: 'proj.errors',
        },
        traceback:
          'Traceback (most recent call last):\n  File "/app/proj/tasks.py", line 12, in charge\n' +
          '    raise PaymentDeclined("card declined", 402)\nproj.errors.PaymentDeclined: (\'card declined\', 402)\n',
        children: [],
      },
    ],
    [
      'rpc-retry.json',
      {
        state: 'RETRY',
        result: { exc_type: 'ConnectionError', exc_message: ['upstream timed out'], exc_module: 'builtins' },
        traceback:
          'Traceback (most recent call last):\n  File "/app/proj/tasks.py", line 30, in fetch\n' +
          '    raise ConnectionError("upstream timed out")\nConnectionError: upstream timed out\n',
        children: [],
      },
    ],
    [
      'rpc-revoked.json',
      {
        state: 'REVOKED',
        result: { exc_type: 'TaskRevokedError', exc_message: ['revoked'], exc_module: 'celery.exceptions' },
        traceback: null,
        children: [],
      },
    ],
  ];

  test.each(expected)('%s decodes to its state, result and traceback', (name, state) => {
    expect(decodeStateMessage(toWire(loadFixture(name)))).toStrictEqual<StateMessage>({
      taskId: ADD_ID,
      ...state,
    });
  });

  test.each(expected)('%s: decode → encode → decode gives the same state message', (name) => {
    const first = decodeStateMessage(toWire(loadFixture(name)))!;
    const encoded = encodeStateMessage(first);
    expect(encoded.properties).toStrictEqual<MessageProperties>({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      correlationId: ADD_ID,
      deliveryMode: 1,
    });
    const body = JSON.parse(encoded.body.toString('utf8'));
    expect(Object.keys(body).sort()).toEqual(['children', 'result', 'status', 'task_id', 'traceback']);
    expect(body).toStrictEqual(JSON.parse(loadFixture(name).body));
    expect(decodeStateMessage(encoded)).toStrictEqual(first);
  });

  test('FAILURE deserializes to a RemoteTaskError with type, message (exc.args joined), module and traceback', () => {
    const state = decodeStateMessage(toWire(loadFixture('rpc-failure.json')))!;
    const error = deserializeError(state.result, state.traceback, state.taskId);
    expect(Object.getPrototypeOf(error)).toBe(RemoteTaskError.prototype);
    expect(error.excType).toBe('PaymentDeclined');
    expect(error.excMessage).toBe('card declined, 402');
    expect(error.excModule).toBe('proj.errors');
    expect(error.traceback).toBe(state.traceback);
    expect(error.taskId).toBe(ADD_ID);
    expect(error.message).toBe('card declined, 402');
    expect(error.name).toBe('RemoteTaskError');
  });

  test('RETRY and REVOKED carry their serialized exceptions', () => {
    const retry = decodeStateMessage(toWire(loadFixture('rpc-retry.json')))!;
    const retryError = deserializeError(retry.result, retry.traceback, retry.taskId);
    expect([retryError.excType, retryError.excMessage, retryError.excModule]).toEqual([
      'ConnectionError',
      'upstream timed out',
      'builtins',
    ]);
    expect(retryError.traceback).toContain('ConnectionError: upstream timed out');

    const revoked = decodeStateMessage(toWire(loadFixture('rpc-revoked.json')))!;
    const revokedError = deserializeError(revoked.result, revoked.traceback, revoked.taskId);
    expect([revokedError.excType, revokedError.excMessage, revokedError.excModule]).toEqual([
      'TaskRevokedError',
      'revoked',
      'celery.exceptions',
    ]);
    expect(revokedError.traceback).toBeUndefined();
  });

  test('a FAILURE naming os.system is plain data in a RemoteTaskError; nothing is looked up', () => {
    const state = decodeStateMessage(toWire(loadFixture('rpc-failure-forged-module.json')))!;
    expect(state.state).toBe('FAILURE');
    const error = deserializeError(state.result, state.traceback, state.taskId);
    expect(Object.getPrototypeOf(error)).toBe(RemoteTaskError.prototype);
    expect(error.constructor).toBe(RemoteTaskError);
    expect([error.excType, error.excMessage, error.excModule]).toEqual(['system', 'touch /tmp/pwned', 'os']);
    expect(error.traceback).toBeUndefined();
  });

  test.each([
    ['builtins', 'TypeError', TypeError],
    ['builtins', 'RangeError', RangeError],
    ['builtins', 'SyntaxError', SyntaxError],
  ])('a %s.%s from a worker is not rebuilt as the local class', (module, type, localClass) => {
    const error = deserializeError({ exc_type: type, exc_message: ['boom'], exc_module: module }, null, 't');
    expect(error).not.toBeInstanceOf(localClass);
    expect(Object.getPrototypeOf(error)).toBe(RemoteTaskError.prototype);
    expect(error.excType).toBe(type);
  });

  test.each(['__proto__', 'constructor', 'prototype', 'toString'])(
    'exc_type %s is only a string in the error',
    (type) => {
      const error = deserializeError(
        { exc_type: type, exc_message: ['x'], exc_module: 'builtins' },
        null,
        't',
      );
      expect(Object.getPrototypeOf(error)).toBe(RemoteTaskError.prototype);
      expect(error.excType).toBe(type);
      expect(error.message).toBe('x');
    },
  );

  test('a result that is not a serialized error still becomes a RemoteTaskError', () => {
    const error = deserializeError({ detail: 'odd' }, 'tb', 't');
    expect([error.excType, error.excMessage, error.excModule, error.traceback]).toEqual([
      'Error',
      '{"detail":"odd"}',
      undefined,
      'tb',
    ]);
  });

  test('kombu __type__ tags in a result are read back as plain strings (base64 stays encoded)', () => {
    const state = decodeStateMessage(toWire(loadFixture('rpc-success-kombu-tagged.json')))!;
    expect(state.result).toStrictEqual({
      at: '2024-05-01T12:00:00.500000+00:00',
      on: '2024-05-01',
      clock: '12:00:00',
      amount: '12.50',
      ref: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
      raw: 'hi',
      blob: '/wA=',
      // not kombu's: left as the data it is
      unknown: { __type__: 'set', __value__: [1, 2] },
      extra: { __type__: 'uuid', __value__: 'x', note: 'three keys: not a tag' },
    });
  });

  test('a tagged value at the top level of a body is untagged too', () => {
    expect(
      parseJsonBody(Buffer.from('{"__type__": "datetime", "__value__": "2024-05-01T12:00:00+00:00"}')),
    ).toBe('2024-05-01T12:00:00+00:00');
  });
});

describe('rpc result messages that are not state reports are ignored (undefined)', () => {
  const properties: MessageProperties = { contentType: 'application/json', contentEncoding: 'utf-8' };
  const decode = (body: string, correlationId?: string) =>
    decodeStateMessage({
      headers: {},
      properties: { ...properties, correlationId },
      body: Buffer.from(body),
    });

  test.each([
    ['not JSON', 'SUCCESS 5'],
    ['a JSON array', '["t", "SUCCESS", 5]'],
    ['a JSON string', '"SUCCESS"'],
    ['no status', '{"task_id": "t", "result": 5}'],
    ['a numeric status', '{"task_id": "t", "status": 3, "result": 5}'],
    ['no task id anywhere', '{"status": "SUCCESS", "result": 5}'],
    ['too deeply nested', `{"task_id": "t", "status": "SUCCESS", "result": ${nestedArrays(200_000)}}`],
  ])('%s', (_name, body) => {
    expect(decode(body)).toBeUndefined();
  });

  test('the correlation id stands in for a missing task_id; odd traceback/children become null', () => {
    expect(
      decode('{"status": "SUCCESS", "result": 5, "traceback": 7, "children": "x"}', 'from-prop'),
    ).toStrictEqual({
      taskId: 'from-prop',
      state: 'SUCCESS',
      result: 5,
      traceback: null,
      children: null,
    });
  });
});

describe('serializeError (what our workers put in FAILURE/RETRY results)', () => {
  test('JavaScript errors are named by their type; Python builtins keep module builtins', () => {
    expect(serializeError(new RangeError('too big'))).toStrictEqual({
      exc_type: 'RangeError',
      exc_message: ['too big'],
      exc_module: 'nodejs',
    });
    expect(serializeError(new TypeError('bad'))).toStrictEqual({
      exc_type: 'TypeError',
      exc_message: ['bad'],
      exc_module: 'builtins',
    });
  });

  test('a thrown non-error becomes an Error with its text', () => {
    expect(serializeError('plain string')).toStrictEqual({
      exc_type: 'Error',
      exc_message: ['plain string'],
      exc_module: 'nodejs',
    });
  });

  test('a RemoteTaskError keeps the original type and module through serialize → deserialize', () => {
    const state = decodeStateMessage(toWire(loadFixture('rpc-failure.json')))!;
    const original = deserializeError(state.result, state.traceback, state.taskId);
    const reserialized = serializeError(original);
    expect(reserialized).toStrictEqual({
      exc_type: 'PaymentDeclined',
      exc_message: ['card declined, 402'],
      exc_module: 'proj.errors',
    });
    const back = deserializeError(reserialized as unknown as JsonValue, state.traceback, state.taskId);
    expect([back.excType, back.excMessage, back.excModule]).toEqual([
      original.excType,
      original.excMessage,
      original.excModule,
    ]);
  });

  test('a FAILURE we encode decodes back to the same error', () => {
    const error = new RangeError('out of range');
    const message = encodeStateMessage({
      taskId: 'js-1',
      state: 'FAILURE',
      result: serializeError(error) as unknown as JsonValue,
      traceback: error.stack ?? null,
      children: null,
    });
    const state = decodeStateMessage(message)!;
    const remote = deserializeError(state.result, state.traceback, state.taskId);
    expect([remote.excType, remote.excMessage, remote.excModule, remote.taskId]).toEqual([
      'RangeError',
      'out of range',
      'nodejs',
      'js-1',
    ]);
    expect(remote.traceback).toContain('RangeError: out of range');
  });
});
