/**
 * Our App as the benchmark measures it, built from the environment (BENCH_BROKER, BENCH_QUEUE,
 * BENCH_RESULT_BACKEND, set by ours.ts before loading this module): RabbitMQ, `rpc://` results (or a
 * store), the one function task `bench.add`. The
 * threads pool loads this module again in each of its threads (`threadApp`), where the App only serves
 * `getTask` and never connects.
 */
import '@queue/amqp';
import '@queue/redis';
import '@queue/postgres';
import { App } from '@queue/core';
import { TASK_NAME } from './adapter';

const broker = process.env.BENCH_BROKER;
const queue = process.env.BENCH_QUEUE;
if (!broker || !queue) throw new Error('ours-app.js needs BENCH_BROKER and BENCH_QUEUE in its environment');

export const app = new App({
  name: 'bench-compare',
  broker,
  resultBackend: process.env.BENCH_RESULT_BACKEND || 'rpc://',
  defaultQueue: queue,
});

export const add = app.task({ name: TASK_NAME }, (a: number, b: number) => a + b);
