import { BaseTask, RemoteTaskError, States, Task, type App } from '@queue/core';
import { testApp } from './helpers';

let attempts = 0;
@Task({ name: 'eager.flaky', maxRetries: 3, defaultRetryDelay: 60, autoretryFor: [Error] })
class Flaky extends BaseTask<[number], string> {
  async run(failures: number) {
    attempts++;
    await this.updateState('PROGRESS', { attempt: this.request.retries });
    if (this.request.retries < failures) throw new Error(`failure ${this.request.retries}`);
    return `ok after ${this.request.retries}`;
  }
}

let app: App;
afterEach(() => app.close());

describe('eager mode (taskAlwaysEager)', () => {
  it('runs the task at once, in-process, retries inline, and returns a finished result', async () => {
    app = testApp({ taskAlwaysEager: true });
    const publish = jest.spyOn(app.transport, 'publish');
    attempts = 0;
    const result = await Flaky.delay(2);
    expect(result.ready()).toBe(true);
    expect(result.state).toBe(States.SUCCESS);
    expect(result.info).toBe('ok after 2');
    expect(attempts).toBe(3);
    expect(publish).not.toHaveBeenCalled();
  });

  it('a failure is stored as FAILURE; with taskEagerPropagates applyAsync rejects with the error', async () => {
    app = testApp({ taskAlwaysEager: true });
    const result = await Flaky.delay(10);
    expect(result.state).toBe(States.FAILURE);
    await expect(result.get()).rejects.toBeInstanceOf(RemoteTaskError);
    await app.close();
    app = testApp({ taskAlwaysEager: true, taskEagerPropagates: true });
    await expect(Flaky.delay(10)).rejects.toThrow('failure 3');
  });
});
