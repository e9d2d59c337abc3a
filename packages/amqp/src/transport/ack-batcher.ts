import type { Channel, Message } from 'amqplib';

/**
 * Acks of one consumer channel, coalesced per turn of the event loop: the finished deliveries at the head
 * of the channel's unsettled window go out as one `basic.ack` with `multiple` (never past a delivery that
 * is still running, requeued or dead-lettered), the rest one by one, all in the same write. A busy worker
 * finishes its tasks in about the order it received them, so most acks collapse into a few frames, which
 * saves the broker (and our socket) a frame per task. A message is acked no later than with a plain ack:
 * at the end of the turn in which its run ended.
 */
export class AckBatcher {
  /** Delivery tags not yet settled, ascending (the broker numbers a channel's deliveries 1, 2, 3, …). */
  private readonly unsettled: number[] = [];
  private readonly finished = new Set<number>();
  private scheduled = false;

  constructor(
    private readonly channel: Channel,
    /** False once the channel is dead: its deliveries went back to the queue, nothing may be sent. */
    private readonly live: () => boolean,
  ) {}

  /** A new delivery on this channel. */
  delivered(tag: number): void {
    this.unsettled.push(tag);
  }

  /** Acks `tag` at the end of this turn. */
  ack(tag: number): void {
    this.finished.add(tag);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** `tag` was settled otherwise (requeued, rejected): acks pending before it are sent first. */
  settledOtherwise(tag: number, settle: () => void): void {
    this.flush();
    this.remove(tag);
    settle();
  }

  /** Sends the acks waiting for the end of the turn now (before the channel closes). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.finished.size === 0) return;
    if (!this.live()) {
      this.finished.clear();
      this.unsettled.length = 0;
      return;
    }
    let head = 0;
    while (head < this.unsettled.length && this.finished.has(this.unsettled[head]!)) head++;
    try {
      if (head > 0) {
        const upTo = this.unsettled[head - 1]!;
        this.channel.ack(messageWithTag(upTo), head > 1);
        for (const tag of this.unsettled.splice(0, head)) this.finished.delete(tag);
      }
      for (const tag of this.finished) {
        this.channel.ack(messageWithTag(tag));
        this.remove(tag);
      }
    } catch {
      // The channel closed between the check and the call: the broker requeues the messages itself.
    }
    this.finished.clear();
  };

  private remove(tag: number): void {
    const index = this.unsettled.indexOf(tag);
    if (index !== -1) this.unsettled.splice(index, 1);
  }
}

/** What amqplib's `ack`/`nack` read of a message: its delivery tag. */
function messageWithTag(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as Message;
}
