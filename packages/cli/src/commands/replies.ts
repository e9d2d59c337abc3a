import type { App, ControlReplies, JsonValue } from '@queue/core';

/** What `inspect` and `control` share: how long to wait for replies, and from whom. */
export interface BroadcastOptions {
  timeout: number;
  destination?: string[];
}

/** Sends `method` to the workers, waits `timeout` seconds for their replies and prints them (see printReplies). */
export async function broadcastAndPrint(
  control: App['control'],
  method: string,
  args: Record<string, JsonValue>,
  options: BroadcastOptions,
): Promise<number> {
  const replies = await control.broadcast(method, args, {
    reply: true,
    timeout: options.timeout,
    destination: options.destination,
  });
  return printReplies(replies, options.timeout);
}

/** Prints replies by hostname; exit 0 when a worker answered, 1 (with one line on stderr) when none did. */
function printReplies(replies: ControlReplies, timeoutSeconds: number): number {
  process.stdout.write(`${JSON.stringify(replies, null, 2)}\n`);
  if (Object.keys(replies).length > 0) return 0;
  process.stderr.write(`no worker answered within ${timeoutSeconds}s\n`);
  return 1;
}
