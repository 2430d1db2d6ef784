import { Context } from '@temporalio/activity';

/**
 * How often a waiting activity heartbeats. Temporal delivers a cancel, and notices a dead worker, only through
 * heartbeats, so this must stay well under the activities' heartbeat timeout (10 s, workflows/activities.ts).
 */
const HEARTBEAT_INTERVAL_MS = 2_000;

/** Runs `work` in the current activity, heartbeating until it settles. */
export async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  // A local activity cannot heartbeat (the server does not know it); a lost worker shows as a timed-out workflow task.
  if (context.info.isLocal) return work();
  const heartbeat = setInterval(() => context.heartbeat(), HEARTBEAT_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(heartbeat);
  }
}
