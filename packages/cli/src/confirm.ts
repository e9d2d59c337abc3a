import { createInterface } from 'node:readline';

/**
 * Asks `question` on `output` and reads one line from `input`: true for `y`/`yes` (any case), false for
 * anything else, including end of input.
 */
export function confirm(
  question: string,
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: false });
    let answer: boolean | undefined;
    rl.once('close', () => {
      if (answer === undefined) output.write('\n'); // end of input: the next line starts on its own line
      resolve(answer ?? false);
    });
    output.write(question);
    rl.once('line', (line) => {
      answer = /^\s*y(es)?\s*$/i.test(line);
      rl.close();
    });
  });
}
