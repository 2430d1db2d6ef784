/**
 * What `tandem result` (and `start --wait`) say while they wait for a goal whose call is held for approval: without
 * it the wait is silent, and a person cannot tell a goal that works from one that waits for them. Each held call is
 * printed once, with since when, its timeout and the commands that decide it; a call held later is printed then.
 */
import type { Client } from '@temporalio/client';
import { heldLines } from './format';
import { goalHandle, queryProgress } from './goals';

/** How often the goal's held calls are read while waiting: a person reading stderr, not a tight loop. */
const HELD_POLL_MS = 1_000;

/**
 * Runs `wait` and, until it settles, prints each call goal `id` holds for approval to `write`, once. A query that fails
 * (no worker at the moment, the goal closing) prints nothing: the wait itself says how the goal ended.
 */
export async function withHeldNotices<T>(
  client: Client,
  id: string,
  wait: Promise<T>,
  write: (line: string) => void,
): Promise<T> {
  let settled = false;
  const done = wait.finally(() => {
    settled = true;
  });
  const shown = new Set<string>();
  // The wait's end cancels a query in flight, and the poll awaits it: the connection closes after this returns, and a
  // call abandoned instead would leave the SDK's retry timer behind (see queryProgress).
  const stop = new AbortController();
  void done.finally(() => stop.abort()).catch(() => undefined);
  const poll = (async () => {
    const handle = await goalHandle(client, id).catch(() => undefined);
    while (handle && !settled) {
      const held = await queryProgress(client, handle, stop.signal).then(
        (progress) => progress.pendingApprovals ?? [],
        () => [],
      );
      for (const call of held.filter((each) => !shown.has(each.callId))) {
        if (settled) break;
        shown.add(call.callId);
        for (const line of heldLines(id, [call])) write(line);
      }
      // A timer cleared when the wait ends, so a goal that just ended does not keep the CLI up for another poll.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, HELD_POLL_MS);
        void done
          .finally(() => {
            clearTimeout(timer);
            resolve();
          })
          .catch(() => undefined);
      });
    }
  })();
  try {
    return await done;
  } finally {
    await poll.catch(() => undefined);
  }
}
