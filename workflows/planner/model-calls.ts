/**
 * The planner's LLM work, one `callModel` activity per call: drafting a plan version (with its bounded correction
 * round), judging a result against its milestone (after its machine checks), and writing the report. Each adds its
 * tokens, and their cost by the goal's prices, to the goal's usage.
 */
import { callModel, checkMilestone } from '../activity-stubs';
import type { CheckOutcome } from '../../common/checks';
import type { ChatMessage, ExecutorAnswered, RejectedDraft, Subtask, Verdict } from '../../common/types';
import { chargeCall, type UsageMeter } from '../../common/cost';
import { verdictSchema } from '../../common/types';
import { jsonSchemaOf } from '../../common/json-schema';
import { checkPlan, contentFilterError, cutOffError, type PlanCheck, planJsonSchema } from './plan';
import { readVerdict } from './verdict';
import {
  calculationsOf,
  type GoalScope,
  unbackedOf,
  unbackedVerdict,
  unmetAsks,
  unmetAsksVerdict,
  wantedChecks,
} from './honest-verdict';
import { REPLY_INLINE_CHARS } from '../../common/limits';
import {
  failedChecksReason,
  JUDGE_SYSTEM_PROMPT,
  judgeRequest,
  PLANNER_SYSTEM_PROMPT,
  planCorrection,
  REPORT_CUT_OFF_CORRECTION,
  REPORT_SYSTEM_PROMPT,
} from '../prompts';

/** How many times an invalid plan goes back to the model with its errors before the draft is given up. */
export const MAX_PLAN_ATTEMPTS = 3;

/** Characters of a refused draft kept for `history`: enough to see what the model sent, bounded for the history. */
const REJECTED_EXCERPT_LIMIT = 300;
/** What the model is told of a plan too long to keep in the goal's history. */
const PLAN_TOO_LONG =
  `the plan is longer than ${REPLY_INLINE_CHARS} characters, the most a plan may be (every plan version is kept in ` +
  "the goal's history); send the same subtasks with shorter instructions, or fewer subtasks";

/**
 * A drafted plan version: the subtasks and what was repaired in them, or the last errors once attempts ran out, or
 * (`outOfTime`) the goal's deadline passed while it was drafted.
 */
export type DraftOutcome = (
  | { ok: true; subtasks: Subtask[]; repairs: string[] }
  | { ok: false; errors: string[]; cutOff: boolean; outOfTime?: true }
) & {
  /** The slowest of the draft's model calls (ms; 0 when the server's replies carried no time). */
  slowestCallMs?: number;
};

/**
 * Asks the model for plan version `version`, sending validation errors back until it is valid or the attempts run out.
 * Every refused draft is appended to `rejected`; `amend` repairs a valid draft in code (given the slowest call so
 * far), then `refuse` names why it still cannot run (it goes back to the model like a validation error). Out of attempts it returns the last errors: the caller decides what a
 * plan that could not be made means (a fallback plan first, a `plan_invalid` end on a replan).
 */
export async function draftPlan(
  request: string,
  version: number,
  meter: UsageMeter,
  rejected: RejectedDraft[],
  refuse: (subtasks: Subtask[]) => string | undefined = () => undefined,
  amend: (subtasks: Subtask[], slowestCallMs: number) => { subtasks: Subtask[]; repairs: string[] } = (subtasks) => ({
    subtasks,
    repairs: [],
  }),
): Promise<DraftOutcome> {
  let transcript: string | null = null;
  let append: ChatMessage[] = [
    { role: 'system', content: PLANNER_SYSTEM_PROMPT },
    { role: 'user', content: request },
  ];
  let last: DraftOutcome = { ok: false, errors: [], cutOff: false };
  let slowestCallMs = 0;
  for (let attempt = 1; attempt <= MAX_PLAN_ATTEMPTS; attempt++) {
    const summary = attempt === 1 ? `plan v${version}` : `plan v${version} (attempt ${attempt})`;
    const reply = await callModel.executeWithOptions({ summary }, [
      { purpose: 'plan', transcript, append, tools: [], responseFormat: { name: 'plan', schema: planJsonSchema() } },
    ]);
    chargeCall(meter, reply);
    slowestCallMs = Math.max(slowestCallMs, reply.elapsedMs ?? 0);
    // A longer plan reached the workflow cut (see REPLY_INLINE_CHARS): say so, rather than that it is not JSON.
    const read: PlanCheck = reply.contentRef
      ? { ok: false, cutOff: false, errors: [PLAN_TOO_LONG] }
      : checkPlan(reply.content, reply.finishReason);
    // Repaired before the refusal is decided, so a replan that repeats a repaired plan is seen to repeat it.
    const amended = read.ok ? amend(read.subtasks, slowestCallMs) : undefined;
    const check: PlanCheck =
      read.ok && amended
        ? { ...read, subtasks: amended.subtasks, repairs: [...read.repairs, ...amended.repairs] }
        : read;
    const refusal = check.ok ? refuse(check.subtasks) : undefined;
    if (check.ok && refusal === undefined) return { ...check, slowestCallMs };
    last = check.ok ? { ok: false, cutOff: false, errors: [refusal!] } : check;
    rejected.push({
      version,
      attempt,
      cutOff: last.cutOff,
      errors: last.errors,
      excerpt: (reply.content ?? '').slice(0, REJECTED_EXCERPT_LIMIT),
    });
    transcript = reply.transcript;
    append = [{ role: 'user', content: planCorrection(last.errors) }];
  }
  return { ...last, slowestCallMs };
}

/**
 * Checks a child's result against its milestone. The verdict is read leniently (./verdict.ts); a reply that holds
 * none counts as "not met" with the reason saying so: the replan it causes is cheaper than trusting an unchecked result.
 */
export async function judge(
  subtask: Subtask,
  result: ExecutorAnswered,
  meter: UsageMeter,
  checks?: CheckOutcome[],
): Promise<Verdict> {
  const reply = await callModel.executeWithOptions({ summary: `judge ${subtask.id}` }, [
    {
      purpose: 'judge',
      subtaskId: subtask.id,
      transcript: null,
      append: [
        { role: 'system', content: JUDGE_SYSTEM_PROMPT },
        { role: 'user', content: judgeRequest(subtask, result, checks) },
      ],
      tools: [],
      responseFormat: { name: 'verdict', schema: jsonSchemaOf(verdictSchema) },
    },
  ]);
  chargeCall(meter, reply);
  const withChecks = (verdict: Verdict): Verdict => (checks?.length ? { ...verdict, checks } : verdict);
  if (reply.finishReason === 'length') {
    return withChecks({ met: false, reason: cutOffError(reply.content, "judge's verdict") });
  }
  // A withheld verdict is no verdict: "not met" costs a replan, trusting an unjudged result could cost the goal.
  if (reply.finishReason === 'content_filter') {
    return withChecks({ met: false, reason: contentFilterError("judge's verdict") });
  }
  const notVerdict: Verdict = {
    met: false,
    reason: `the judge's reply is not a verdict: ${JSON.stringify(reply.content?.slice(0, 200))}`,
  };
  return withChecks(readVerdict(reply.content) ?? notVerdict);
}

/**
 * The verdict on a finished subtask, in the order that lets no false "met" through (docs/checks.md):
 * 1. its machine checks (the `checkMilestone` activity): the plan's, plus a check for each file its milestone names
 *    and each file of the goal it is about (all of the goal's files for the plan's last subtask). A failed check
 *    decides the verdict, so the judge is not asked; a check whose planner-written value the executor's own
 *    calculator result disputes goes to the judge as evidence instead;
 * 2. what the work asks for outside the workspace (a message sent, a meeting booked: its instructions and milestone,
 *    and the goal's words for the plan's last subtask) with no successful tool call that made it is not met, and the
 *    judge is not asked;
 * 3. the answer's claims: a file written, a message sent, a value computed with no successful tool call behind it is
 *    not met, and the judge is not asked;
 * 4. the judge, whose reason is read for the same claims: a judge that believes an unbacked claim is overruled.
 */
export async function checkAndJudge(
  subtask: Subtask,
  result: ExecutorAnswered,
  workspace: string,
  scope: GoalScope,
  meter: UsageMeter,
): Promise<Verdict> {
  const wanted = wantedChecks(subtask, scope);
  const checks = wanted.length
    ? await checkMilestone.executeWithOptions({ summary: `check ${subtask.id}` }, [
        { workspace, checks: wanted, calculations: calculationsOf(result) },
      ])
    : undefined;
  if (checks?.some((check) => !check.ok && !check.disputed)) {
    return { met: false, reason: failedChecksReason(checks), checks };
  }
  const unmet = unmetAsks(subtask, scope, result);
  if (unmet.length) return { ...unmetAsksVerdict(unmet), ...(checks ? { checks } : {}) };
  const claimed = unbackedOf(result.answer ?? '', subtask, result);
  if (claimed.length) return { ...unbackedVerdict(claimed), ...(checks ? { checks } : {}) };
  const verdict = await judge(subtask, result, meter, checks);
  const believed = verdict.met ? unbackedOf(verdict.reason, subtask, result) : [];
  return believed.length ? unbackedVerdict(believed, verdict) : verdict;
}

/**
 * Writes the final report from the request built by `reportRequest`. A report cut off by the length limit is not
 * accepted: it goes back once asking for a shorter one, and if that is cut off too the report is `fallback` (built
 * from the subtasks' results, given why), never half a sentence. A report the provider's content filter withheld is
 * `fallback` at once: asking again would send the same request to the same filter.
 */
export async function writeReport(
  request: string,
  meter: UsageMeter,
  fallback: (why: string) => string,
): Promise<string> {
  let transcript: string | null = null;
  let append: ChatMessage[] = [
    { role: 'system', content: REPORT_SYSTEM_PROMPT },
    { role: 'user', content: request },
  ];
  for (const summary of ['final report', 'final report (shorter)']) {
    const reply = await callModel.executeWithOptions({ summary }, [
      { purpose: 'report', transcript, append, tools: [] },
    ]);
    chargeCall(meter, reply);
    if (reply.finishReason === 'content_filter')
      return fallback("The provider's content filter withheld the model's report");
    if (reply.finishReason !== 'length') return reply.content ?? '';
    transcript = reply.transcript;
    append = [{ role: 'user', content: REPORT_CUT_OFF_CORRECTION }];
  }
  return fallback("The model's report was cut off by the length limit twice");
}
