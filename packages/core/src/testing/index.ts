/**
 * `@queue/core/testing`: for users' tests. The in-memory broker behind `memory://` (inspect queues,
 * delayed and dead-lettered messages), its transport and result backend, and a leak check for processes
 * that should be able to end.
 *
 * @example
 * ```ts
 * import { App } from '@queue/core';
 * import type { MemoryTransport } from '@queue/core/testing';
 *
 * const app = new App({ name: 'test', broker: 'memory://' });
 * // ... send tasks without a worker, then:
 * expect((app.transport as MemoryTransport).broker.depth('celery')).toBe(1);
 * ```
 *
 * @module \@queue/core/testing
 */
export { MemoryBroker, type DeadLetter } from '../transport/memory/memory-broker';
export { MemoryTransport } from '../transport/memory/memory-transport';
export { MemoryResultBackend } from '../result/memory-result-backend';
export { processHolds } from '../runtime/process-hold';
