import type { Channel, ConsumeMessage } from 'amqplib';
import type { Delivery, WireMessage } from '@queue/core/transport';
import type { ManagedChannel } from '../connection/managed-channel';
import { DELIVERY_EXCHANGE, stripDelayPrefix } from '../topology/delayed-delivery';
import type { AckBatcher } from './ack-batcher';

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
 * the broker has already requeued the message, so the settle is dropped. Acks go through the channel's
 * `AckBatcher` (coalesced per turn of the event loop).
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
    private readonly acks: AckBatcher,
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
    if (this.claim()) this.acks.ack(this.raw.fields.deliveryTag);
  }

  requeue(): void {
    if (this.claim()) this.nack(true);
  }

  deadLetter(reason: string, detail: string): void {
    if (!this.claim()) return;
    void this.deadLetterer(this, reason, detail).then(
      () => this.acks.ack(this.raw.fields.deliveryTag),
      // The copy could not be kept: drop it rather than redeliver a poison message forever.
      () => this.nack(false),
    );
  }

  private nack(requeue: boolean): void {
    this.acks.settledOtherwise(this.raw.fields.deliveryTag, () =>
      this.onLiveChannel((channel) => channel.nack(this.raw, false, requeue)),
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
