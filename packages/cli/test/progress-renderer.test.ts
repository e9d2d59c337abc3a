import { PassThrough } from 'node:stream';
import { RemoteTaskError, type StateChange } from '@queue/core';
import { confirm } from '../src/confirm';
import { barRenderer, lineRenderer, rendererFor, type RenderTarget } from '../src/progress/renderer';
import { progressOf, stateLine } from '../src/progress/state-line';

/** A stream that records what is written, a terminal or not. */
function fakeStream(isTTY: boolean, columns?: number): RenderTarget & { text: string } {
  return {
    isTTY,
    columns,
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

const failure: StateChange = {
  state: 'FAILURE',
  info: new RemoteTaskError('PaperJam', 'tray 2\nis stuck', undefined, undefined, 'id-1'),
};
const states: StateChange[] = [
  { state: 'STARTED', info: { pid: 1, hostname: 'w@h' } },
  { state: 'PROGRESS', info: { percent: 40 } },
  { state: 'PROGRESS', info: { percent: 40, note: 'same percentage' } },
  { state: 'PROGRESS', info: { current: 3, total: 4 } },
  failure,
];

describe('progress meta', () => {
  it.each([
    [{ percent: 40 }, { percent: 40 }],
    [{ percent: 140 }, { percent: 100 }],
    [
      { current: 1, total: 8 },
      { percent: 12.5, current: 1, total: 8 },
    ],
    [{ current: 1, total: 0 }, undefined],
    [{ percent: 'half' }, undefined],
    [null, undefined],
    ['PROGRESS', undefined],
  ])('%j → %j', (meta, progress) => {
    expect(progressOf(meta)).toEqual(progress);
  });

  it('a state line names errors by type and message, on one line', () => {
    expect(stateLine(failure)).toBe('FAILURE PaperJam: tray 2 is stuck');
    expect(stateLine({ state: 'RETRY', info: new TypeError('boom') })).toBe('RETRY TypeError: boom');
    expect(stateLine({ state: 'SUCCESS', info: 42 })).toBe('SUCCESS');
    expect(stateLine({ state: 'PROGRESS', info: { current: 2, total: 3 } })).toBe('PROGRESS 67% (2/3)');
  });
});

describe('renderers', () => {
  it('not a terminal: one line per state change, repeats dropped', () => {
    const out = fakeStream(false);
    const renderer = rendererFor(out);
    for (const change of states) renderer.update(change);
    renderer.end();
    expect(out.text).toBe('STARTED\nPROGRESS 40%\nPROGRESS 75% (3/4)\nFAILURE PaperJam: tray 2 is stuck\n');
  });

  it('a terminal: the line is redrawn in place with a bar; the outcome gets a line of its own', () => {
    const out = fakeStream(true, 60);
    const renderer = rendererFor(out);
    for (const change of states) renderer.update(change);
    renderer.end();
    // 60 columns leave 28 cells for the bar.
    const bar = (filled: number) => `${'█'.repeat(filled)}${'░'.repeat(28 - filled)}`;
    expect(out.text).toBe(
      `\r\u001b[2KSTARTED` +
        `\r\u001b[2KPROGRESS ${bar(11)} 40%` +
        `\r\u001b[2KPROGRESS ${bar(21)} 75% (3/4)` +
        '\nFAILURE PaperJam: tray 2 is stuck\n',
    );
  });

  it('a terminal left mid-way (a timeout) still ends its line', () => {
    const out = fakeStream(true);
    const renderer = barRenderer(out);
    renderer.update({ state: 'PROGRESS', info: { percent: 100 } });
    renderer.end();
    expect(out.text).toBe(`\r\u001b[2KPROGRESS ${'█'.repeat(40)} 100%\n`);
    const lines = fakeStream(false);
    lineRenderer(lines).end();
    expect(lines.text).toBe('');
  });
});

describe('confirm', () => {
  async function answer(typed: string | null): Promise<{ yes: boolean; asked: string }> {
    const input = new PassThrough();
    const output = new PassThrough();
    let asked = '';
    output.on('data', (chunk: Buffer) => (asked += chunk.toString()));
    const pending = confirm('Delete? [y/N] ', input, output);
    if (typed === null) input.end();
    else input.write(typed);
    return { yes: await pending, asked };
  }

  it.each([
    ['y\n', true],
    ['YES\n', true],
    ['n\n', false],
    ['\n', false],
    ['yes please\n', false],
  ])('%j → %s', async (typed, yes) => {
    expect(await answer(typed)).toEqual({ yes, asked: 'Delete? [y/N] ' });
  });

  it('end of input is a no', async () => {
    expect((await answer(null)).yes).toBe(false);
  });
});
