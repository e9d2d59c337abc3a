/**
 * `@queue/core/transport`: for authors of transports and result backends (`@queue/amqp` and the coming
 * Redis and PostgreSQL backends). The contracts to implement, the registry that maps URL schemes to them,
 * and Celery's message protocol v2 (task messages and result bodies) to speak on the wire.
 *
 * @example A transport for my:// URLs
 * ```ts
 * import { registerTransport, type Transport } from '@queue/core/transport';
 * registerTransport(['my'], (url, { options }) => new MyTransport(url, options));
 * // new App({ broker: 'my://host' }) now uses it
 * ```
 *
 * @module \@queue/core/transport
 */
export type { ConsumeOptions, Consumer, Delivery, PublishOptions, Transport } from './transport';
export type { BroadcastOptions, ControlChannel, ControlCommand, ControlReply, QueueStats } from './control';
export type { CeleryEvent, EventChannel } from './events';
export { publishFence, whileHolding, type LockService, type TransportLock } from './locks';
export { isAddressedTo } from './control-addressing';
export { clock } from '../runtime/lamport-clock';
export {
  addPluginSearchPath,
  registerResultBackend,
  registerTransport,
  type ResultBackendContext,
  type ResultBackendFactory,
  type TransportContext,
  type TransportFactory,
} from './registry';

export type { ChordPart, ChordStore, ReplyTarget, ResultBackend } from '../result/result-backend';
export { StateCache } from '../result/state-cache';
export { StateListeners } from '../result/state-listeners';

export {
  READY_STATES,
  States,
  type JsonValue,
  type MessageProperties,
  type SerializedError,
  type StateMessage,
  type TaskEmbed,
  type TaskEnvelope,
  type TaskState,
  type WireMessage,
} from '../protocol/message';
export { decodeTaskMessage, encodeTaskMessage, EMPTY_EMBED, ORIGIN, reprOf } from '../protocol/task-codec';
export {
  decodeStateDocument,
  decodeStateMessage,
  deserializeError,
  encodeStateDocument,
  encodeStateMessage,
  serializeError,
} from '../protocol/result-codec';
export { DEFAULT_JSON_LIMITS, parseJsonBody, type JsonLimits } from '../protocol/json';

export { getTaskLogger, type Logger } from '../logging/logger';
export {
  ConfigurationError,
  LockLostError,
  MessageDecodeError,
  TransportError,
  type MessageRejectReason,
} from '../errors';
