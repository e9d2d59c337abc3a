import type { ControlCommand } from './control';

/** Python's `fnmatch.fnmatchcase` as a RegExp: `*`, `?`, `[seq]`, `[!seq]`; everything else literal. */
function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) source += '\\[';
      else {
        let set = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        source += `[${set}]`;
        i = end;
      }
    } else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^(?:${source})$`, 's');
}

/**
 * Whether `hostname` should run `command`, by kombu's rules: a non-empty `destination` names the nodes;
 * otherwise `pattern` with `matcher` (`glob`: fnmatch; `pcre`: `re.match`, anchored at the start only);
 * otherwise every node. A pattern that does not compile matches nothing.
 */
export function isAddressedTo(command: ControlCommand, hostname: string): boolean {
  if (command.destination && command.destination.length > 0) return command.destination.includes(hostname);
  if (!command.pattern || !command.matcher) return true;
  try {
    if (command.matcher === 'glob') return globToRegExp(command.pattern).test(hostname);
    return new RegExp(`^(?:${command.pattern})`).test(hostname);
  } catch {
    return false;
  }
}
