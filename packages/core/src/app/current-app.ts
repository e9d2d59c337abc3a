import type { App } from './app';

/** Apps that are open, newest last: the newest is the current one (as Celery's `current_app`). */
const openApps: App[] = [];

export function pushApp(app: App): void {
  openApps.push(app);
}

export function removeApp(app: App): void {
  const index = openApps.lastIndexOf(app);
  if (index !== -1) openApps.splice(index, 1);
}

/** Makes `app` the one that class tasks and shared tasks send through. */
export function setCurrentApp(app: App): void {
  removeApp(app);
  openApps.push(app);
}

/** The App used by `Cls.delay()`/`sharedTask` calls: the most recently created (or `setAsCurrent`) open App. */
export function currentApp(): App | undefined {
  return openApps[openApps.length - 1];
}
