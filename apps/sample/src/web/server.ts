import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { getTaskLogger, type App } from '@queue/core';
import { SendAfterCommitError } from '../db/send-on-commit';
import type { RecordService } from '../records';
import { PAGE } from './page';
import { taskSnapshot } from './task-snapshot';
import { InvalidInputError, parseNewRecord } from './validation';

export interface WebDependencies {
  records: RecordService;
  app: App;
}

const log = getTaskLogger('sample.web');

/** The page and its JSON API (not yet listening: `listen()` it, or `inject()` requests in tests). */
export function buildServer({ records, app }: WebDependencies): FastifyInstance {
  const server = Fastify({ logger: false, bodyLimit: 64 * 1024 });

  server.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof InvalidInputError) {
      return reply.code(400).send({ error: 'invalid_input', field: error.field, message: error.message });
    }
    if (error instanceof SendAfterCommitError) {
      log.error(`${request.method} ${request.url}: ${error.message}`);
      return reply.code(503).send({ error: 'task_not_sent', message: error.message });
    }
    // Fastify's own client errors (malformed JSON, empty body, too large, wrong content type).
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return reply
        .code(error.statusCode)
        .send({ error: error.code ?? 'bad_request', message: error.message });
    }
    log.error(`${request.method} ${request.url} failed: ${error.stack ?? error.message}`);
    return reply.code(500).send({ error: 'internal', message: 'internal server error' });
  });

  server.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));

  server.get('/api/records', async () => ({ records: await records.listRecords() }));

  server.post('/api/records', async (request, reply) => {
    const { title } = parseNewRecord(request.body);
    return reply.code(201).send(await records.createRecord(title));
  });

  server.get<{ Params: { id: string } }>('/api/tasks/:id', async (request) =>
    taskSnapshot(app, request.params.id),
  );

  return server;
}
