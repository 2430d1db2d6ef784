/**
 * What the Web UI, list filters and a paused goal see of the state: the search attributes (on change), the current
 * details (every turn), and the pause that holds the planner's own model calls.
 */
import { condition } from '@temporalio/workflow';
import { tokensOf } from '../../common/usage';
import { publishDetails, publishSearchAttributes } from './goal-effects';
import { goalProgress } from './goal-progress';
import type { GoalSettings, GoalState } from './goal-state';
import { detailsMarkdown } from './progress-details';

/** A goal's state with the settings it runs under: what every planner action works on. */
export interface Goal {
  state: GoalState;
  settings: GoalSettings;
}

/** The `progress` query's answer now. */
export function progressNow({ state, settings }: Goal) {
  return goalProgress(state, settings, Date.now());
}

/** The Web UI's current details: `progress` as markdown, under a first line on how the goal ended once it has. */
export function publishProgressDetails(goal: Goal, ending?: string): void {
  publishDetails(detailsMarkdown(progressNow(goal), ending));
}

/** Search attributes on change, current details every call (with `ending` as their first line, when given). */
export function publish(goal: Goal, ending?: string): void {
  const progress = progressNow(goal);
  const { state } = goal;
  state.published = publishSearchAttributes(state.published, {
    status: progress.status,
    planVersion: state.plans.length,
    tokens: tokensOf(progress.usage),
  });
  state.publishedApprovals = state.approvals.version;
  publishProgressDetails(goal, ending);
}

/** Waits while a pause holds the goal: the planner's own model calls (plan, judge, replan, report) wait too. */
export async function holdWhilePaused(goal: Goal): Promise<void> {
  const { state } = goal;
  if (!state.paused || state.cancelling) return;
  publish(goal);
  await condition(() => !state.paused || state.cancelling);
}
