/**
 * The buckets `tandem list --status` sorts goals into. Apart from the rest of client/goal-list.ts so the command
 * definitions can offer them as choices without loading the Temporal client (`--help` and `--version` stay instant).
 */

/**
 * The `--status` filter values. A cancelled goal *completes* with `reason: 'cancelled'` (TandemStatus `cancelled`), or
 * was cancelled as a workflow (runs from before that, or a planner that did not get to report); a terminated or timed-out
 * goal never reported, so its TandemStatus is whatever it was (often `running`): the bucket says what happened.
 */
export const LIST_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

/** A goal's bucket, from Temporal's execution status and, for a completed workflow, the result tandem recorded. */
export function bucketOf(executionStatus: string, tandemStatus: string | null): ListStatus {
  switch (executionStatus) {
    case 'RUNNING':
      return 'running';
    case 'COMPLETED':
      return tandemStatus === 'failed' ? 'failed' : tandemStatus === 'cancelled' ? 'cancelled' : 'completed';
    case 'CANCELLED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed_out';
    default:
      return 'failed';
  }
}
