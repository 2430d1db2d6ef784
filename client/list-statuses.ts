/**
 * The buckets `tandem list --status` sorts goals into. Apart from the rest of client/goal-list.ts so the command
 * definitions can offer them as choices without loading the Temporal client (`--help` and `--version` stay instant).
 */

/** The `--status` filter values. */
export const LIST_STATUSES = ['running', 'completed', 'failed'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

/**
 * A goal's bucket: a goal whose workflow completed but whose result is not ok counts as failed (the planner records
 * that in TandemStatus, while Temporal only sees a completed workflow), as do failed, terminated, cancelled and
 * timed-out workflows.
 */
export function bucketOf(executionStatus: string, tandemStatus: string | null): ListStatus {
  if (executionStatus === 'RUNNING') return 'running';
  if (executionStatus === 'COMPLETED' && tandemStatus !== 'failed') return 'completed';
  return 'failed';
}
