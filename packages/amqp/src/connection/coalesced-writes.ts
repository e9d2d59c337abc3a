import type { ChannelModel } from 'amqplib';

/** The parts of amqplib's connection internals this relies on (checked at run time). */
interface Muxed {
  muxer?: { out?: { cork?: () => void; uncork?: () => void }; _readIncoming?: () => void };
}

/**
 * amqplib writes every frame (each ack, each publish) to the socket with a write of its own: one system
 * call per frame, a third of a busy worker's CPU. Its multiplexer already gathers the frames of all
 * channels and writes them in one loop; corking the socket around that loop turns the loop into a single
 * `writev`. Frames, their order and their timing are unchanged. Relies on amqplib 2.x internals
 * (`connection.muxer._readIncoming`, `muxer.out`); if they are not there, nothing is changed.
 */
export function coalesceWrites(model: ChannelModel): boolean {
  const muxer = (model as unknown as { connection?: Muxed }).connection?.muxer;
  const out = muxer?.out;
  const readIncoming = muxer?._readIncoming;
  if (!muxer || !out || typeof out.cork !== 'function' || typeof out.uncork !== 'function') return false;
  if (typeof readIncoming !== 'function') return false;
  const cork = out.cork.bind(out);
  const uncork = out.uncork.bind(out);
  muxer._readIncoming = function corkedReadIncoming(this: unknown) {
    cork();
    try {
      readIncoming.call(muxer);
    } finally {
      uncork();
    }
  };
  return true;
}
