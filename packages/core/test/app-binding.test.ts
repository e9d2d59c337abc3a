import { BaseTask, configureLogging, NotRegistered, Task } from '@queue/core';
import { captureLogs, testApp, type LogLine } from './helpers';

@Task({ name: 'binding.where' })
class Where extends BaseTask<[], string> {
  run() {
    return this.app.name;
  }
}

/** Which App a class task sends through, and what is said when that is ambiguous. */
describe('class tasks and several Apps', () => {
  let lines: LogLine[];
  const warnings = () => lines.filter((line) => line.level === 'warn').map((line) => line.message);

  beforeEach(() => {
    lines = captureLogs('warn');
  });
  afterEach(() => configureLogging({ level: 'silent' }));

  test('app.register(Cls) binds it: it sends through that App even when another is newer', async () => {
    const first = testApp();
    const second = testApp();
    try {
      first.register(Where);
      await first.worker().start();
      await expect((await Where.delay()).get({ timeout: 3 })).resolves.toBe(first.name);
      expect(warnings()).toEqual([]);
      expect(() =>
        first.register(
          class NotATask extends BaseTask<[], null> {
            run() {
              return null;
            }
          },
        ),
      ).toThrow(NotRegistered);
    } finally {
      await second.close();
      await first.close();
    }
  });

  test('unbound, with two Apps open and none chosen: it uses the newest, and says so once', async () => {
    @Task({ name: 'binding.unbound' })
    class Unbound extends BaseTask<[], string> {
      run() {
        return this.app.name;
      }
    }
    const older = testApp();
    const newer = testApp();
    try {
      await newer.worker().start();
      await expect((await Unbound.delay()).get({ timeout: 3 })).resolves.toBe(newer.name);
      await Unbound.delay();
      expect(warnings()).toEqual([
        `Unbound sends through App '${newer.name}', the newest of 2 open Apps; bind it with app.register(Unbound) or choose with app.setAsCurrent()`,
      ]);
      // Chosen explicitly: nothing to say.
      @Task({ name: 'binding.chosen' })
      class Chosen extends BaseTask<[], string> {
        run() {
          return this.app.name;
        }
      }
      older.setAsCurrent();
      await older.worker().start();
      await expect((await Chosen.delay()).get({ timeout: 3 })).resolves.toBe(older.name);
      expect(warnings()).toHaveLength(1);
    } finally {
      await newer.close();
      await older.close();
    }
  });
});
