import type { ActionResult, ApiError, TaskDetail } from '../src/wire';

/** Where the bearer token is kept: this tab only, gone when it closes. */
const TOKEN_KEY = 'queue-dashboard-token';

/** The API answered 401: the page must ask for a token (basic auth is the browser's business). */
export class Unauthorized extends Error {
  constructor() {
    super('unauthorized');
    this.name = 'Unauthorized';
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Headers every API request carries: the token when there is one. */
export function authHeaders(): Record<string, string> {
  const value = token();
  return value ? { authorization: `Bearer ${value}` } : {};
}

async function errorOf(response: Response): Promise<Error> {
  if (response.status === 401) return new Unauthorized();
  try {
    const body = (await response.json()) as ApiError;
    return new Error(body.message || `HTTP ${response.status}`);
  } catch {
    return new Error(`HTTP ${response.status}`);
  }
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: authHeaders(), cache: 'no-store' });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

/** A state-changing request: POST, JSON, and the header that proves it comes from this page. */
async function act(path: string, body: Record<string, unknown>): Promise<ActionResult> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { ...authHeaders(), 'content-type': 'application/json', 'x-queue-dashboard': '1' },
    body: JSON.stringify(body),
    cache: 'no-store',
  });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as ActionResult;
}

/** The task's page data, or null when neither the events nor the result backend know it. */
export async function fetchTask(id: string): Promise<TaskDetail | null> {
  try {
    return await getJson<TaskDetail>(`./api/tasks/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error instanceof Error && /no such task/.test(error.message)) return null;
    throw error;
  }
}

export function revokeTask(id: string, terminate: boolean): Promise<ActionResult> {
  return act(`./api/tasks/${encodeURIComponent(id)}/revoke`, { terminate });
}

export function shutdownWorker(hostname: string): Promise<ActionResult> {
  return act(`./api/workers/${encodeURIComponent(hostname)}/shutdown`, {});
}

export function resizePool(hostname: string, delta: number): Promise<ActionResult> {
  return act(`./api/workers/${encodeURIComponent(hostname)}/pool`, { delta });
}
