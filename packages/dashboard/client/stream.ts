import type { StreamMessages } from '../src/wire';
import { authHeaders } from './api';

export type StreamStatus = 'connecting' | 'live' | 'offline' | 'unauthorized';

export interface StreamHandlers {
  message<K extends keyof StreamMessages>(event: K, data: StreamMessages[K]): void;
  status(status: StreamStatus): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads the server's event stream with fetch rather than EventSource, which cannot send an
 * `Authorization` header. Reconnects with a growing pause (the server sends a fresh snapshot each time);
 * stops on 401. Returns the function that stops it.
 */
export function connectStream(handlers: StreamHandlers): () => void {
  const controller = new AbortController();
  let stopped = false;

  const dispatch = (block: string) => {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue; // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    handlers.message(event as keyof StreamMessages, JSON.parse(data.join('\n')) as never);
  };

  const run = async () => {
    let pause = 500;
    while (!stopped) {
      handlers.status('connecting');
      try {
        const response = await fetch('./api/stream', {
          headers: authHeaders(),
          cache: 'no-store',
          signal: controller.signal,
        });
        if (response.status === 401) {
          handlers.status('unauthorized');
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        handlers.status('live');
        pause = 500;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        let scanned = 0;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          // Search only the new text: a snapshot of 10,000 tasks arrives in many chunks.
          let end = buffer.indexOf('\n\n', Math.max(0, scanned - 1));
          while (end >= 0) {
            dispatch(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
          }
          scanned = buffer.length;
        }
      } catch (error) {
        if (stopped) return;
        console.warn('queue dashboard: stream interrupted', error);
      }
      if (stopped) return;
      handlers.status('offline');
      await sleep(pause);
      pause = Math.min(pause * 2, 5000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}
