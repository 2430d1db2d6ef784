import { Context } from '@temporalio/activity';

/**
 * How often a waiting activity heartbeats. Temporal delivers a cancel, and notices a dead worker, only through
 * heartbeats, so this must stay well under the activities' heartbeat timeout (10 s, workflows/activities.ts).
 */
const HEARTBEAT_INTERVAL_MS = 2_000;

/**
 * Runs `work` in the current activity, heartbeating until it settles. `details` is read at each heartbeat: what a
 * client sees of the activity in flight (`temporal workflow describe` shows it under pending activities).
 */
export async function whileHeartbeating<T>(work: () => Promise<T>, details?: () => unknown): Promise<T> {
  const context = Context.current();
  // A local activity cannot heartbeat (the server does not know it); a lost worker shows as a timed-out workflow task.
  if (context.info.isLocal) return work();
  const heartbeat = setInterval(() => context.heartbeat(details?.()), HEARTBEAT_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(heartbeat);
  }
}
