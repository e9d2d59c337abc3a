import { currentHost } from '../task/task-host';
import type { App } from './app';

/** The App used by `Cls.delay()`/`sharedTask` calls: the most recently created (or `setAsCurrent`) open App. */
export function currentApp(): App | undefined {
  return currentHost() as App | undefined;
}
