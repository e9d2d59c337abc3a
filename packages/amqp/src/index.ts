/**
 * `@queue/amqp`: RabbitMQ for `@queue/core`. Loading it (`@queue/core` does so by itself for these URLs,
 * when it is installed) registers the `amqp://`, `amqps://` and `pyamqp://` transport (Celery 5 topology,
 * publisher confirms, reconnects, broker-side delays, remote control, events, locks) and the `rpc://`
 * result backend. Settings go in the App's `transportOptions`: {@link AmqpTransportOptions}.
 *
 * @example
 * ```ts
 * import { App } from '@queue/core';
 *
 * const app = new App({
 *   name: 'shop',
 *   broker: 'amqp://guest:guest@localhost:5672//',
 *   resultBackend: 'rpc://',
 *   transportOptions: { queueType: 'quorum', publishTimeoutMs: 5000 },
 * });
 * ```
 *
 * @module \@queue/amqp
 */
import { registerResultBackend, registerTransport, ConfigurationError } from '@queue/core/transport';
import { AmqpTransport } from './transport/amqp-transport';
import { RpcResultBackend } from './result/rpc-result-backend';

registerTransport(['amqp', 'amqps', 'pyamqp'], (url, { options }) => new AmqpTransport(url, options));
registerResultBackend(['rpc'], (_url, { transport }) => {
  if (!(transport instanceof AmqpTransport)) {
    throw new ConfigurationError('the rpc:// result backend needs an amqp:// broker (it replies over AMQP)');
  }
  return new RpcResultBackend(transport);
});

export {
  AmqpTransport,
  REJECT_REASON_HEADER,
  REJECT_DETAIL_HEADER,
  ORIGINAL_QUEUE_HEADER,
} from './transport/amqp-transport';
export { RpcResultBackend } from './result/rpc-result-backend';
export {
  DEFAULT_AMQP_OPTIONS,
  type AmqpTlsOptions,
  type AmqpTransportOptions,
  type CompiledAmqpOptions,
  type FailoverStrategy,
  type QueueType,
} from './options';
export {
  parseBrokerUrl,
  parseBrokerUrls,
  type AddressOptions,
  type BrokerAddress,
} from './connection/broker-url';
export { deadLetterQueueName } from './topology/topology';
export {
  DELAY_LEVELS,
  DELIVERY_EXCHANGE,
  MAX_DELAY_SECONDS,
  delayedRoutingKey,
  levelName,
} from './topology/delayed-delivery';
export {
  BrokerAccessRefusedError,
  BrokerBlockedError,
  BrokerUnavailableError,
  PublishTimeoutError,
  QueueDeclarationError,
} from './errors';
