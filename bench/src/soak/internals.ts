import { EventEmitter } from 'node:events';
import { AmqpTransport } from '@queue/amqp';
import type { App, Worker } from '@queue/core';
import { processHolds } from '@queue/core/testing';

/**
 * Reads the counters a leak would make grow. Public figures where the framework exposes them
 * (`processHolds()`, `channelCount`, the worker's listeners, `monitor.inState`); otherwise the sizes of
 * private collections, read by name and checked at run time: a renamed field shows up as "unreadable",
 * never as a zero.
 */
export class CounterReader {
  readonly counters: Record<string, number> = {};
  readonly unreadable: string[] = [];

  set(name: string, value: number | undefined): void {
    if (value === undefined) this.unreadable.push(name);
    else this.counters[name] = value;
  }
}

/** A property of an object, whatever its declared visibility. */
export function prop(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** Size of a Map, Set, array, or of anything with a numeric `size`. */
export function sizeOf(value: unknown): number | undefined {
  if (value instanceof Map || value instanceof Set) return value.size;
  if (Array.isArray(value)) return value.length;
  const size = prop(value, 'size');
  return typeof size === 'number' ? size : undefined;
}

/** Every listener of every event of an EventEmitter. */
export function listenerTotal(value: unknown): number | undefined {
  if (!(value instanceof EventEmitter)) return undefined;
  return value.eventNames().reduce((sum, event) => sum + value.listenerCount(event), 0);
}

function sum(values: Array<number | undefined>): number | undefined {
  return values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0);
}

export function readWorkerCounters(reader: CounterReader, worker: Worker): void {
  reader.set('holds', processHolds());
  reader.set('listeners.worker', listenerTotal(worker));
  reader.set('listeners.process', listenerTotal(process));
  reader.set('worker.inFlight', sizeOf(prop(worker, 'inFlight')));
  reader.set('worker.held', sizeOf(prop(worker, 'held')));
  reader.set('worker.slotWaiters', sizeOf(prop(prop(worker, 'slots'), 'waiting')));
  reader.set('monitor.reserved', worker.monitor.inState('RECEIVED').length);
  reader.set('monitor.running', worker.monitor.inState('STARTED').length);
  reader.set('monitor.current', sizeOf(prop(worker.monitor, 'current')));
  reader.set('monitor.finished', sizeOf(prop(worker.monitor, 'finished')));
  reader.set('monitor.taskNames', Object.keys(worker.monitor.counts).length);
}

/** The amqplib side: channels really open on the socket, their listeners and pending callbacks. */
function readAmqplibCounters(reader: CounterReader, model: unknown): void {
  const connection = prop(model, 'connection');
  const slots = prop(connection, 'channels');
  const open = Array.isArray(slots) ? slots.slice(1).filter((slot) => slot !== null) : undefined;
  const channels = open?.map((slot) => prop(slot, 'channel'));
  reader.set('listeners.amqpModel', listenerTotal(model));
  reader.set('listeners.amqpConnection', listenerTotal(connection));
  reader.set('listeners.socket', listenerTotal(prop(connection, 'stream')));
  reader.set('channels.amqplib', open?.length);
  reader.set('listeners.amqpChannels', channels && sum(channels.map(listenerTotal)));
  reader.set(
    'listeners.amqpChannelBuffers',
    open && sum(open.map((slot) => listenerTotal(prop(slot, 'buffer')))),
  );
  reader.set('amqplib.unconfirmed', channels && sum(channels.map((ch) => sizeOf(prop(ch, 'unconfirmed')))));
  reader.set(
    'amqplib.pendingRpcs',
    channels &&
      sum(
        channels.map((ch) => sizeOf(prop(ch, 'pending')) ?? (prop(ch, 'pending') === null ? 0 : undefined)),
      ),
  );
  reader.set('amqplib.consumers', channels && sum(channels.map((ch) => sizeOf(prop(ch, 'consumers')) ?? 0)));
}

const AMQPLIB_COUNTERS = [
  'listeners.amqpModel',
  'listeners.amqpConnection',
  'listeners.socket',
  'channels.amqplib',
  'listeners.amqpChannels',
  'listeners.amqpChannelBuffers',
  'amqplib.unconfirmed',
  'amqplib.pendingRpcs',
  'amqplib.consumers',
];

export function readTransportCounters(reader: CounterReader, app: App): void {
  const transport = app.transport;
  if (!(transport instanceof AmqpTransport)) {
    reader.set('channels.managed', undefined);
    return;
  }
  const connection = transport.connection;
  reader.set('channels.managed', connection.channelCount);
  reader.set('connection.reconnects', Math.max(0, connection.generation - 1));
  reader.set('connection.waiters', sizeOf(prop(connection, 'waiters')));
  reader.set('connection.reconnectListeners', sizeOf(prop(connection, 'generationListeners')));
  reader.set('topology.taskQueues', sizeOf(prop(transport.topology, 'taskQueues')));
  reader.set('topology.declared', sizeOf(prop(transport.topology, 'declared')));
  reader.set('rpc.cachedStates', sizeOf(prop(app.backend, 'cache')));
  reader.set('rpc.listeners', sizeOf(prop(prop(app.backend, 'listeners'), 'byTask')));
  const model = prop(connection, 'model');
  if (model instanceof EventEmitter) readAmqplibCounters(reader, model);
  else if (model === undefined && 'model' in connection) {
    for (const name of AMQPLIB_COUNTERS) reader.set(name, 0); // closed: nothing is left on amqplib's side
  } else {
    for (const name of AMQPLIB_COUNTERS) reader.set(name, undefined);
  }
}
