/** How the page writes times, durations and counts. */

/** The server's clock minus ours, in seconds: "3 s ago" must not depend on the browser's clock. */
let offset = 0;

export function setServerNow(serverNow: number): void {
  offset = serverNow - Date.now() / 1000;
}

/** Now, by the server's clock (epoch seconds). */
export function now(): number {
  return Date.now() / 1000 + offset;
}

export function ago(at: number | null): string {
  if (at === null) return '—';
  const seconds = Math.max(0, now() - at);
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** `14:03:07.120` (local time), with the date when it is not today. */
export function clock(at: number | null, millis = false): string {
  if (at === null) return '—';
  const date = new Date(at * 1000);
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const withMillis = millis ? `${time}.${pad(date.getMilliseconds(), 3)}` : time;
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? withMillis
    : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${withMillis}`;
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  if (seconds < 3600) {
    const rest = Math.round(seconds % 60);
    return rest === 0 ? `${Math.floor(seconds / 60)} min` : `${Math.floor(seconds / 60)} min ${rest} s`;
  }
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function count(value: number | null): string {
  return value === null ? '—' : value.toLocaleString('en-US');
}

export function rate(value: number | null): string {
  if (value === null) return '—';
  return value >= 10 ? `${Math.round(value)}/s` : `${value.toFixed(1)}/s`;
}
