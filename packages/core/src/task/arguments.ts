import { TaskValidationError } from '../errors';

/**
 * Names of a function's parameters, read from its source, so keyword arguments from Celery callers
 * (`add.apply_async(kwargs={'a': 1, 'b': 2})`) can be matched to `run(a, b)`. Destructured or rest
 * parameters have no name (`undefined`): they can only be given positionally.
 */
export function parameterNames(fn: (...args: never[]) => unknown): (string | undefined)[] {
  const source = Function.prototype.toString.call(fn);
  const open = source.indexOf('(');
  const arrow = source.indexOf('=>');
  let list: string;
  if (open === -1 || (arrow !== -1 && arrow < open)) {
    list = source.slice(0, arrow).replace(/^async\s+/, ''); // `x => ...` / `async x => ...`
  } else {
    let depth = 0;
    let end = open;
    for (let i = open; i < source.length; i++) {
      const ch = source[i];
      if (ch === '(' || ch === '[' || ch === '{') depth++;
      else if (ch === ')' || ch === ']' || ch === '}') depth--;
      if (depth === 0) {
        end = i;
        break;
      }
    }
    list = source.slice(open + 1, end);
  }
  const params: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')) {
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      params.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim()) params.push(current);
  return params.map((param) => {
    const match = /^\s*([A-Za-z_$][\w$]*)\s*(=|$)/.exec(param);
    return match ? match[1] : undefined;
  });
}

/**
 * Celery calls carry positional `args` and keyword `kwargs`; a TypeScript task body takes positional
 * parameters. Keyword arguments are placed at the position of the parameter of the same name.
 */
export function bindArguments(
  taskName: string,
  names: readonly (string | undefined)[],
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
): unknown[] {
  const keys = Object.keys(kwargs);
  if (keys.length === 0) return [...args];
  const bound = [...args];
  for (const key of keys) {
    const index = names.indexOf(key);
    if (index === -1) {
      throw new TaskValidationError(taskName, [
        { property: key, constraints: { unknownKeyword: `unexpected keyword argument '${key}'` } },
      ]);
    }
    if (index < args.length) {
      throw new TaskValidationError(taskName, [
        { property: key, constraints: { duplicateArgument: `got multiple values for argument '${key}'` } },
      ]);
    }
    bound[index] = kwargs[key];
  }
  return bound;
}
