/**
 * Scheduled goals (`tandem schedule ...`): Temporal Schedules whose action starts a planner workflow. The overlap
 * policy SKIP means a firing is dropped while the previous goal of the same schedule still runs, so a slow goal never
 * piles up behind itself.
 */
import { type Client, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../node/errors';
import { goalInput, GoalError, goalSearchAttributes, goalSummary, keyWorkflowId } from './goals';

export interface CreateScheduleOptions {
  cron: string;
  goal: string;
  taskQueue: string;
  key?: string;
  id?: string;
}

/** A schedule as `tandem schedule list --json` prints it (stable: fields are only added). */
export interface ScheduleSummaryRow {
  id: string;
  cron: string | null;
  goal: string | null;
  key: string | null;
  paused: boolean;
  nextRun: string | null;
  recentGoals: string[];
}

/** Marks tandem's schedules in the memo, so `schedule list` leaves other schedules in the namespace alone. */
const MEMO_KIND = 'tandem-goal';

/** Creates a schedule and returns its id; an invalid cron expression is refused by the server before anything runs. */
export async function createSchedule(client: Client, opts: CreateScheduleOptions): Promise<string> {
  const input = goalInput({ goal: opts.goal });
  const scheduleId = opts.id ?? `tandem-${randomUUID().slice(0, 8)}`;
  try {
    await client.schedule.create({
      scheduleId,
      spec: { cronExpressions: [opts.cron] },
      action: {
        type: 'startWorkflow',
        workflowType: 'plannerWorkflow',
        taskQueue: opts.taskQueue,
        args: [input],
        // The server appends the firing time to this id, so each firing is its own goal.
        workflowId: opts.key !== undefined ? keyWorkflowId(opts.key) : `goal-${scheduleId}`,
        staticSummary: goalSummary(input.goal),
        typedSearchAttributes: goalSearchAttributes(input.goal, opts.key),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      // The spec comes back from the server as calendars; the memo keeps the cron and goal as the user wrote them.
      memo: { kind: MEMO_KIND, cron: opts.cron, goal: input.goal, key: opts.key ?? null },
    });
  } catch (err) {
    const message = (err as Error).message;
    if (/already (exists|registered|running)/i.test(message)) {
      throw new GoalError(`a schedule with id "${scheduleId}" already exists; choose another --id`);
    }
    // The SDK turns the server's "Invalid schedule spec" into a TypeError: a field out of range ("61 * * * *") comes
    // this way, as well as a wrong number of fields.
    if (err instanceof TypeError) {
      throw new GoalError(
        `invalid --cron "${opts.cron}" (${message.split('\n')[0]}): use 5 fields, e.g. "0 9 * * 1-5"`,
      );
    }
    // Any other refusal (an --id past the server's length limit) has its reason in the causes; the cause stays so
    // that withClient still reports an unreachable server as such.
    throw new GoalError(`could not create schedule "${scheduleId}"`, { cause: err });
  }
  return scheduleId;
}

/** tandem's schedules in the namespace. */
export async function listSchedules(client: Client): Promise<ScheduleSummaryRow[]> {
  const rows: ScheduleSummaryRow[] = [];
  for await (const schedule of client.schedule.list()) {
    const memo = schedule.memo ?? {};
    if (memo.kind !== MEMO_KIND) continue;
    rows.push({
      id: schedule.scheduleId,
      cron: (memo.cron as string | undefined) ?? null,
      goal: (memo.goal as string | undefined) ?? null,
      key: (memo.key as string | null | undefined) ?? null,
      paused: schedule.state.paused,
      nextRun: schedule.info.nextActionTimes[0]?.toISOString() ?? null,
      recentGoals: schedule.info.recentActions.flatMap((action) =>
        'workflow' in action.action ? [action.action.workflow.workflowId] : [],
      ),
    });
  }
  return rows;
}

/** Deletes a schedule; goals it already started keep running. */
export async function deleteSchedule(client: Client, id: string): Promise<void> {
  try {
    await client.schedule.getHandle(id).delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new NotFoundError(`no schedule with id "${id}"; list them with: tandem schedule list`);
    }
    throw err;
  }
}
