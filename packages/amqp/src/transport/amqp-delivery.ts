import type { Channel, ConsumeMessage } from 'amqplib';
import type { Delivery, WireMessage } from '@queue/core/transport';
import type { ManagedChannel } from '../connection/managed-channel';
import { DELIVERY_EXCHANGE, stripDelayPrefix } from '../topology/delayed-delivery';

/** amqplib's message as the core's wire message (absent properties become empty, so decoding names them). */
export function toWireMessage(message: ConsumeMessage): WireMessage {
  const p = message.properties;
  return {
    headers: (p.headers as Record<string, unknown> | undefined) ?? {},
    properties: {
      contentType: p.contentType ?? '',
      contentEncoding: p.contentEncoding ?? '',
      correlationId: p.correlationId,
      replyTo: p.replyTo,
      deliveryMode: p.deliveryMode === 1 ? 1 : 2,
      priority: p.priority,
    },
    body: message.content,
  };
}

/** How a delivery's dead-lettering is carried out (by the transport, which owns the publisher). */
export type DeadLetterer = (delivery: AmqpDelivery, reason: string, detail: string) => Promise<void>;

/**
 * One delivery, settled at most once and only on the channel it came from: if that channel died meanwhile,
 * the broker has already requeued the message, so the settle is dropped.
 */
export class AmqpDelivery implements Delivery {
  readonly message: WireMessage;
  readonly redelivered: boolean;
  readonly exchange: string;
  /** The target queue's key, even when the message came back from the delay levels. */
  readonly routingKey: string;
  private settled = false;

  constructor(
    private readonly managed: ManagedChannel,
    private readonly channel: Channel,
    readonly raw: ConsumeMessage,
    readonly queue: string,
    private readonly deadLetterer: DeadLetterer,
  ) {
    this.message = toWireMessage(raw);
    this.redelivered = raw.fields.redelivered;
    this.exchange = raw.fields.exchange;
    this.routingKey =
      raw.fields.exchange === DELIVERY_EXCHANGE
        ? stripDelayPrefix(raw.fields.routingKey)
        : raw.fields.routingKey;
  }

  ack(): void {
    if (this.claim()) this.onLiveChannel((channel) => channel.ack(this.raw));
  }

  requeue(): void {
    if (this.claim()) this.onLiveChannel((channel) => channel.nack(this.raw, false, true));
  }

  deadLetter(reason: string, detail: string): void {
    if (!this.claim()) return;
    void this.deadLetterer(this, reason, detail).then(
      () => this.onLiveChannel((channel) => channel.ack(this.raw)),
      // The copy could not be kept: drop it rather than redeliver a poison message forever.
      () => this.onLiveChannel((channel) => channel.nack(this.raw, false, false)),
    );
  }

  private claim(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }

  private onLiveChannel(settle: (channel: Channel) => void): void {
    if (!this.managed.isCurrent(this.channel)) return;
    try {
      settle(this.channel);
    } catch {
      // The channel closed between the check and the call: the broker requeues the message itself.
    }
  }
}
