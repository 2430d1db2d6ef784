/**
 * The `patched()` ids of changes that alter the commands a workflow issues, in one place. A run started before a
 * change replays without its marker and keeps the old path (Temporal's versioning for runs in flight); a new run
 * records the marker and takes the new one. Never rename an id: runs in flight would change path.
 */
export const Patch = {
  /** Plan drafts are repaired (and cut-off ones refused) before validation: a once-refused draft may now be accepted. */
  PlanRepairs: 'plan-repairs',
  /** Plan drafts get the field repairs of planner/plan-repair-fields.ts too: a once-refused draft may now run. */
  PlanFieldRepairs: 'plan-field-repairs',
  /** The judge's verdict is read leniently (fenced, in prose): a once "not met" verdict may now be met. */
  LenientVerdict: 'lenient-verdict',
  /** A subtask without checks whose milestone names files is checked for them (`impliedChecks`). */
  ImpliedChecks: 'implied-checks',
  /** A first plan the model cannot make valid runs the fallback plan instead of failing the workflow (`PlanInvalid`). */
  FallbackPlan: 'fallback-plan',
  /** A replan the model cannot make valid ends the goal with `plan_invalid` and a report instead of failing it. */
  PlanInvalidResult: 'plan-invalid-result',
  /** A cut-off report is asked for again, shorter, instead of being accepted. */
  ReportCutOff: 'report-cut-off',
  /** An executor given `tools: []` offers every tool instead of only `escalate`. */
  EmptyToolsMeanAll: 'empty-tools-mean-all',
  /** An executor's reports of its held calls go to the planner one at a time, each after the last was delivered. */
  SerialApprovalReports: 'serial-approval-reports',
} as const;
