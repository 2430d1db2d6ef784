/**
 * Checks that cannot carry the planner's mistakes (docs/checks.md): a check's expected value comes from the goal's own
 * words or from code, never from the planner's mental arithmetic. A small model wrote `answer.txt contains "405"` for
 * "Compute 17 * 23 + 4" (395), and every correct run failed it. So, in every drafted plan:
 * - a `contains` text the goal does not write is not the goal's: a number becomes a value check of the goal's one
 *   arithmetic expression (the calculator's engine computes it when the check runs); any other text is dropped and
 *   the check asks only that the file exists;
 * - a value check's expression must be one the goal writes: another is replaced by the goal's one expression, or the
 *   check asks only that the file exists when the goal writes none (or several).
 * Each change is a plan repair, recorded in the plan version. Pure, so the planner workflow runs and replays it.
 */
import { describeCheck } from '../../common/check-lines';
import type { MilestoneCheck } from '../../common/checks';
import { compactExpression, expressionsIn, inGoalWords, normalizeArithmetic } from '../../common/expressions';
import type { Subtask } from '../../common/types';

/** A `contains` text that is a number (`405`, `-3.5`, `5,468`): what mental arithmetic writes. */
function isNumber(text: string): boolean {
  return /^-?[\d,. ]*\d[\d,. ]*$/u.test(normalizeArithmetic(text).trim());
}

/** The check as the goal allows it, and the repair line when it had to change (undefined: kept as written). */
function fromGoal(check: MilestoneCheck, goal: string, where: string): { check: MilestoneCheck; repair?: string } {
  const expressions = expressionsIn(goal);
  const only = expressions.length === 1 ? expressions[0] : undefined;
  const exists: MilestoneCheck = { kind: 'file', file: check.file };
  const said = `check "${describeCheck(check)}" of ${where}`;
  if (check.kind === 'file') {
    if (check.contains === undefined) return { check };
    const number = isNumber(check.contains);
    // A number for a goal that writes arithmetic is that arithmetic's value, even when it is one of its operands.
    if (inGoalWords(check.contains, goal) && !(number && only !== undefined)) return { check };
    const why = inGoalWords(check.contains, goal)
      ? `${JSON.stringify(check.contains)} is an operand of the goal's arithmetic, not its value`
      : `${JSON.stringify(check.contains)} is not in the goal's words (an expected value comes from the goal or from code)`;
    if (number && only !== undefined) {
      const value: MilestoneCheck = { kind: 'value', file: check.file, expression: only };
      return { check: value, repair: `${said}: ${why}; it now checks that ${check.file} holds the value of ${only}` };
    }
    return { check: exists, repair: `${said}: ${why}; it now checks only that ${check.file} exists` };
  }
  if (expressions.includes(compactExpression(check.expression))) return { check };
  const why = `${JSON.stringify(check.expression)} is not an expression the goal writes`;
  if (only !== undefined) {
    return { check: { ...check, expression: only }, repair: `${said}: ${why}; it now uses the goal's ${only}` };
  }
  return { check: exists, repair: `${said}: ${why}; it now checks only that ${check.file} exists` };
}

/** Every subtask's checks made to take their expected values from `goal`; what changed, one line each. */
export function repairChecksFromGoal(subtasks: Subtask[], goal: string): { subtasks: Subtask[]; repairs: string[] } {
  const repairs: string[] = [];
  const repaired = subtasks.map((subtask) => {
    if (!subtask.checks?.length) return subtask;
    const checks = subtask.checks.map((check) => {
      const outcome = fromGoal(check, goal, `subtask "${subtask.id}"`);
      if (outcome.repair) repairs.push(outcome.repair);
      return outcome.check;
    });
    return { ...subtask, checks };
  });
  return { subtasks: repaired, repairs };
}
