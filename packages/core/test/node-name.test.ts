import { hostname } from 'node:os';
import { testApp } from './helpers';
import { expandNodeName } from '../src/runtime/node-name';

describe('worker names expand %h, %n, %d as Celery', () => {
  test('each variable', () => {
    expect(expandNodeName('api@%h', 'web-1.prod.example')).toBe('api@web-1.prod.example');
    expect(expandNodeName('api@%n', 'web-1.prod.example')).toBe('api@web-1');
    expect(expandNodeName('%n.%d', 'web-1.prod.example')).toBe('web-1.prod.example');
    expect(expandNodeName('w@%n|%d|', 'bare')).toBe('w@bare||');
    expect(expandNodeName('100%%@%h', 'h')).toBe('100%@h');
    expect(expandNodeName('keep %x and %', 'h')).toBe('keep %x and %');
  });

  test('a worker named with %h gets this host, and the default is queue@<host>', async () => {
    const app = testApp();
    try {
      expect(app.worker({ hostname: 'api@%h' }).hostname).toBe(`api@${hostname()}`);
      expect(app.worker().hostname).toBe(`queue@${hostname()}`);
    } finally {
      await app.close();
    }
  });
});
