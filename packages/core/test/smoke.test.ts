import { App, BaseTask, Task } from '@queue/core';

@Task({ name: 'smoke.mul' })
class Mul extends BaseTask<[number, number], number> {
  run(a: number, b: number) {
    return a * b;
  }
}

test('smoke: function and class tasks round trip on memory', async () => {
  const app = new App({ name: 'smoke' });
  const add = app.task({ name: 'smoke.add' }, (a: number, b: number) => a + b);
  await app.worker().start();
  expect(await (await add.delay(2, 3)).get({ timeout: 2 })).toBe(5);
  expect(await (await Mul.delay(4, 5)).get({ timeout: 2 })).toBe(20);
  expect(await add(1, 1)).toBe(2);
  expect(await Mul.runLocal(3, 3)).toBe(9);
  const r = await app.sendTask('smoke.add', [], { a: 10, b: 5 });
  expect(await r.get({ timeout: 2 })).toBe(15);
  await app.close();
});
