import type { Channel } from 'amqplib';

/**
 * Broker-side delays (countdown, ETA, retry backoff) in Celery 5.5's layout ("native delayed delivery"),
 * so nothing waits unacked in a worker: 28 topic exchanges and queues `celery_delayed_<n>`, queue n holding
 * messages for 2^n s (`x-message-ttl`) before dead-lettering them to level n−1. The routing key is the
 * delay in seconds as 28 binary digits, then the target queue: at each level a 1 bit parks the message in
 * that level's queue, a 0 bit passes it straight down. Level 0 ends in the topic exchange
 * `celery_delayed_delivery`, where each target queue is bound with 28 wildcards + its own name.
 */
export const DELAY_LEVELS = 28;
/** The longest broker-side delay, in seconds (about 8.5 years); longer ones are capped to it. */
export const MAX_DELAY_SECONDS = 2 ** DELAY_LEVELS - 1;
/** The topic exchange where delayed messages arrive at the end of their delay, bound to each target queue. */
export const DELIVERY_EXCHANGE = 'celery_delayed_delivery';
export const TOP_LEVEL_EXCHANGE = levelName(DELAY_LEVELS - 1);

const BITS_PREFIX = new RegExp(`^(?:[01]\\.){${DELAY_LEVELS}}`);

/** The name of delay level `level` (0–27): its exchange and its queue, `celery_delayed_<level>`. */
export function levelName(level: number): string {
  return `celery_delayed_${level}`;
}

/** Routing key for a delay of `seconds` (1 … 2^28−1) to `queue`. */
export function delayedRoutingKey(seconds: number, queue: string): string {
  const whole = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.floor(seconds)));
  return `${[...whole.toString(2).padStart(DELAY_LEVELS, '0')].join('.')}.${queue}`;
}

/** The target queue's own routing key, from a key that went through the delay levels. */
export function stripDelayPrefix(routingKey: string): string {
  return routingKey.replace(BITS_PREFIX, '');
}

/** Topic pattern selecting the messages whose bit for `level` is `bit`. */
function levelPattern(level: number, bit: '0' | '1'): string {
  return `${'*.'.repeat(DELAY_LEVELS - 1 - level)}${bit}.#`;
}

/** Declares the 28 levels and the delivery exchange (idempotent; once per connection). */
export async function declareDelayLevels(channel: Channel, queueType: 'classic' | 'quorum'): Promise<void> {
  await channel.assertExchange(DELIVERY_EXCHANGE, 'topic', { durable: true });
  for (let level = 0; level < DELAY_LEVELS; level++) {
    await channel.assertExchange(levelName(level), 'topic', { durable: true });
  }
  for (let level = DELAY_LEVELS - 1; level >= 0; level--) {
    const name = levelName(level);
    const next = level > 0 ? levelName(level - 1) : DELIVERY_EXCHANGE;
    await channel.assertQueue(name, {
      durable: true,
      arguments: {
        'x-queue-type': queueType,
        'x-message-ttl': 2 ** level * 1000,
        'x-dead-letter-exchange': next,
        // Quorum queues dead-letter at-least-once only with these (as Celery 5.5 declares them).
        ...(queueType === 'quorum'
          ? { 'x-overflow': 'reject-publish', 'x-dead-letter-strategy': 'at-least-once' }
          : {}),
      },
    });
    await channel.bindQueue(name, name, levelPattern(level, '1'));
    await channel.bindExchange(next, name, levelPattern(level, '0'));
  }
}

/** Lets messages that finished their delay reach `queue`. */
export async function bindToDelivery(channel: Channel, queue: string): Promise<void> {
  await channel.bindQueue(queue, DELIVERY_EXCHANGE, `${'*.'.repeat(DELAY_LEVELS)}${queue}`);
}
