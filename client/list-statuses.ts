/**
 * The buckets `tandem list --status` sorts goals into. Apart from the rest of client/goal-list.ts so the command
 * definitions can offer them as choices without loading the Temporal client (`--help` and `--version` stay instant).
 */

/**
 * The `--status` filter values, the endings of docs/endings.md. A goal that ended not ok is Failed and a cancelled one
 * Canceled; runs recorded before that completed with TandemStatus `failed` or `cancelled`, and still sort by it. A
 * terminated or timed-out goal never reported, so its TandemStatus is whatever it was (often `running`): the bucket
 * says what happened.
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
