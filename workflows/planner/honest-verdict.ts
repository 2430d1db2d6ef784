/**
 * What makes a verdict honest whatever the judge believes (docs/checks.md): the checks a subtask must pass (the plan's,
 * plus every file its milestone names and every file the goal names that the subtask is about, or all of the goal's
 * for the plan's last subtask) and the claims of its answer and the judge's reason that no tool call backs
 * (common/claims.ts). Pure, so the planner workflow runs and replays it.
 */
import { outsideEffectMissing, unbackedClaims, type UnbackedClaim } from '../../common/claims';
import { impliedChecks, type MilestoneCheck, namedFiles, withoutFileNames } from '../../common/checks';
import { expressionsIn } from '../../common/expressions';
import { askedEffects, hasEffect } from '../../common/outside-effects';
import type { ExecutorResult, Subtask, ToolCallRecord, Verdict } from '../../common/types';

/** What the goal says about a subtask's checks: its text, and whether the subtask is the last of the plan to finish. */
export interface GoalScope {
  goal: string;
  /** True when every other subtask of the current plan is done: the goal's files must exist once this one is. */
  last: boolean;
  /** The tool calls of the goal's other done subtasks: an outside effect the goal asks for may have been made there. */
  doneToolCalls: ToolCallRecord[];
}

/**
 * A goal asking whether a file is there, or to remove one, names files that need not exist at its end ("does
 * notes.txt exist?", "delete tmp.txt"): the goal implies no checks then.
 */
const GOAL_WITHOUT_FILE_CHECKS =
  /\b(?:whether|exists?|delet\w*|remov\w*|renam\w*|mov(?:e|ed|ing)|missing|absent)\b|存在|削除|移動|borra|supprim|lösch|удал/iu;

/** The one arithmetic expression the goal writes, if it writes exactly one. */
function goalExpression(goal: string): string | undefined {
  const expressions = expressionsIn(goal);
  return expressions.length === 1 ? expressions[0] : undefined;
}

/** The checks a subtask is held to: the plan's, then implied ones for files they leave out (see the module comment). */
export function wantedChecks(subtask: Subtask, scope: GoalScope): MilestoneCheck[] {
  const planned = subtask.checks ?? [];
  const goalFiles = GOAL_WITHOUT_FILE_CHECKS.test(withoutFileNames(scope.goal)) ? [] : namedFiles(scope.goal);
  const expression = goalExpression(scope.goal);
  const implied = impliedChecks(subtask.milestone, { instructions: subtask.instructions, goalFiles, expression });
  // The last subtask answers for the goal: a file the goal names and no subtask mentioned must exist all the same.
  const atEnd = scope.last
    ? impliedChecks(scope.goal, { instructions: scope.goal, goalFiles, expression }).filter((check) =>
        goalFiles.includes(check.file),
      )
    : [];
  const covered = new Set(planned.map((check) => check.file));
  const added = [...implied, ...atEnd].filter((check) => {
    if (covered.has(check.file)) return false;
    covered.add(check.file);
    return true;
  });
  return [...planned, ...added];
}

/** The expressions the executor's successful calculator calls evaluated. */
export function calculationsOf(result: ExecutorResult): string[] {
  return result.toolCalls.flatMap((call) => {
    if (call.name !== 'calculator' || !call.ok) return [];
    const found = /"expression"\s*:\s*"((?:[^"\\]|\\.)*)"/u.exec(call.arguments);
    return found ? [found[1]] : [];
  });
}

/** The tool outputs the model saw: the result's evidence without its final answer (the answer is not data). */
function observationsOf(result: ExecutorResult): string {
  const at = result.evidence.lastIndexOf('final answer:');
  return at === -1 ? result.evidence : result.evidence.slice(0, at);
}

/**
 * The claims of `text` (the answer, or the judge's reason) that no successful tool call of the subtask backs; empty
 * when every claim is backed.
 */
export function unbackedOf(text: string, subtask: Subtask, result: ExecutorResult): UnbackedClaim[] {
  return unbackedClaims(text, {
    toolCalls: result.toolCalls,
    ...(subtask.tools?.length ? { offeredTools: subtask.tools } : {}),
    observations: observationsOf(result),
    hasInputs: subtask.dependsOn.length > 0,
  });
}

/**
 * The outside effects (a message sent, a meeting booked, …: common/outside-effects.ts) the subtask's instructions and
 * milestone ask for that none of its successful tool calls made, and, for the plan's last subtask, those the goal
 * asks for that no tool call of the goal made. Empty when every ask is met; an ask no offered tool can meet names
 * the missing tool.
 */
export function unmetAsks(subtask: Subtask, scope: GoalScope, result: ExecutorResult): UnbackedClaim[] {
  const offered = subtask.tools?.length ? subtask.tools : undefined;
  const asked = [
    ...[subtask.instructions, subtask.milestone].flatMap((text) =>
      askedEffects(text).map((ask) => ({ ...ask, calls: result.toolCalls })),
    ),
    ...(scope.last
      ? askedEffects(scope.goal).map((ask) => ({ ...ask, calls: [...scope.doneToolCalls, ...result.toolCalls] }))
      : []),
  ];
  const seen = new Set<string>();
  return asked.flatMap(({ kind, sentence, calls }) => {
    if (seen.has(kind) || calls.some((call) => hasEffect(call, kind))) return [];
    seen.add(kind);
    return [{ claim: { kind, sentence }, ...outsideEffectMissing(kind, sentence, 'asks', offered) }];
  });
}

/**
 * The verdict when effects are missing: not met, naming each and, when no tool could have made it, the tool that is
 * missing (`missingTools`). `lead` says whose words they are ("claims", "the judge's reason claims", "asks for");
 * `judged` is the judge's verdict it overrides, quoted so nothing is hidden.
 */
function missingEffectsVerdict(lead: string, missing: UnbackedClaim[], judged?: Verdict): Verdict {
  const missingTools = [...new Set(missing.flatMap((claim) => (claim.missingTool ? [claim.missingTool] : [])))];
  return {
    met: false,
    reason:
      `${lead} an effect no tool call produced: ${missing.map((claim) => claim.why).join('; ')}` +
      (missingTools.length ? `; missing tool: ${missingTools.join(', ')}` : '') +
      (judged ? ` (the judge had said: ${judged.met ? 'met' : 'not met'}, ${judged.reason})` : ''),
    ...(judged?.checks ? { checks: judged.checks } : {}),
    ...(missingTools.length ? { missingTools } : {}),
  };
}

/** The verdict when claims are unbacked (see `missingEffectsVerdict`); `judged` when they are the judge's. */
export function unbackedVerdict(unbacked: UnbackedClaim[], judged?: Verdict): Verdict {
  return missingEffectsVerdict(judged ? "the judge's reason claims" : 'claims', unbacked, judged);
}

/** The verdict when asks are unmet (see `missingEffectsVerdict`). */
export function unmetAsksVerdict(unmet: UnbackedClaim[]): Verdict {
  return missingEffectsVerdict('the work asks for', unmet);
}
