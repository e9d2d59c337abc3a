import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseTask, DuplicateTaskError, sharedTask, Task, type App } from '@queue/core';
import { testApp } from './helpers';

/** This file as the error names it, and the line on which `marker` stands. */
const here = relative(process.cwd(), __filename);
const lineOf = (marker: string) =>
  readFileSync(__filename, 'utf8')
    .split('\n')
    .findIndex((line) => line.includes(marker)) + 1;

function thrown(define: () => unknown): DuplicateTaskError {
  try {
    define();
  } catch (error) {
    expect(error).toBeInstanceOf(DuplicateTaskError);
    return error as DuplicateTaskError;
  }
  throw new Error('no DuplicateTaskError was thrown');
}

describe('DuplicateTaskError names both definitions and where they stand', () => {
  let app: App;
  beforeEach(() => {
    app = testApp();
  });
  afterEach(() => app.close());

  it('two @Task classes: both class names, file:line of each, and the name', () => {
    @Task({ name: 'dup.report' }) // first-class-definition
    class BuildReport extends BaseTask<[], number> {
      run() {
        return 1;
      }
    }
    void BuildReport;
    const error = thrown(() => {
      @Task({ name: 'dup.report' }) // second-class-definition
      class LegacyReport extends BaseTask<[], number> {
        run() {
          return 2;
        }
      }
      void LegacyReport;
    });
    expect(error.taskName).toBe('dup.report');
    // The decorator runs where the class is declared: its line, or the decorator's just above.
    const site = (marker: string) => new RegExp(`${here}:(${lineOf(marker)}|${lineOf(marker) + 1})\\b`);
    expect(error.registered).toMatch(/^class BuildReport \(/);
    expect(error.registered).toMatch(site('first-class-definition'));
    expect(error.refused).toMatch(/^class LegacyReport \(/);
    expect(error.refused).toMatch(site('second-class-definition'));
    expect(error.message).toBe(
      `Task name 'dup.report' is taken: ${error.registered} has it, so ${error.refused} cannot be registered under it (rename one of them)`,
    );
  });

  it('two functions in one App: both function names with file:line', () => {
    app.task({ name: 'dup.mail' }, function sendEmail() {}); // first-function
    const error = thrown(() => app.task({ name: 'dup.mail' }, function sendMail() {})); // second-function
    expect(error.registered).toBe(`function sendEmail (${here}:${lineOf('// first-function')})`);
    expect(error.refused).toBe(`function sendMail (${here}:${lineOf('// second-function')})`);
  });

  it('a shared task and an App task: the shared one has the name', () => {
    sharedTask({ name: 'dup.shared' }, function sharedOne() {}); // shared-definition
    const error = thrown(() => app.task({ name: 'dup.shared' }, () => 2)); // app-definition
    expect(error.message).toContain(`function sharedOne (${here}:${lineOf('// shared-definition')}) has it`);
    expect(error.message).toContain(`so an anonymous function (${here}:${lineOf('// app-definition')})`);
  });
});
