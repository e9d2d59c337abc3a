import { MemoryResultBackend } from '../../result/memory-result-backend';
import { registerResultBackend, registerTransport } from '../registry';
import type { MemoryBroker } from './memory-broker';
import { MemoryTransport } from './memory-transport';

/** The result store that goes with a memory broker, so Apps sharing `memory://name` share results too. */
const storeOfBroker = new WeakMap<MemoryBroker, MemoryResultBackend>();

registerTransport(['memory'], (url) => new MemoryTransport(url));
registerResultBackend(['memory'], (_url, { transport }) => {
  if (!(transport instanceof MemoryTransport)) return new MemoryResultBackend();
  let store = storeOfBroker.get(transport.broker);
  if (!store) storeOfBroker.set(transport.broker, (store = new MemoryResultBackend()));
  return store;
});
