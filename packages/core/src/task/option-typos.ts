import { TASK_OPTION_KEYS } from './options';

/** Celery's spellings a Python user may carry over, and the option each means. */
const CELERY_SPELLINGS: Readonly<Record<string, string>> = Object.fromEntries(
  TASK_OPTION_KEYS.map((key) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), key]),
);

/**
 * Own fields of a task instance that look like a misspelt option (`maxRetry`, `max_retries`,
 * `timelimit`): such a field is silently ignored, so the App warns about it. Returns each with the option
 * it probably meant.
 */
export function misspeltOptionFields(instance: object): Array<{ field: string; option: string }> {
  const known = new Set<string>(TASK_OPTION_KEYS);
  const found: Array<{ field: string; option: string }> = [];
  for (const field of Object.keys(instance)) {
    if (known.has(field)) continue;
    const option =
      CELERY_SPELLINGS[field] ??
      TASK_OPTION_KEYS.find((key) => distance(field.toLowerCase(), key.toLowerCase()) <= tolerance(key));
    if (option) found.push({ field, option });
  }
  return found;
}

/** How many edits still look like a typo of `key`: more for longer names (`maxRetry` → `maxRetries`). */
function tolerance(key: string): number {
  return key.length > 8 ? 3 : key.length > 5 ? 2 : 1;
}

/** Levenshtein distance (short strings: option names). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
