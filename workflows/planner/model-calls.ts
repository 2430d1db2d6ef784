/**
 * The planner's LLM work, one `callModel` activity per call: drafting a plan version (with its bounded correction
 * round), judging a result against its milestone (after its machine checks), and writing the report. Each adds its
 * tokens to the goal's usage.
 */
import { callModel, checkMilestone } from '../activity-stubs';
import { impliedChecks, type CheckOutcome } from '../../common/checks';
import type { ChatMessage, ExecutorResult, RejectedDraft, Subtask, Verdict } from '../../common/types';
import { addUsage, type TokenUsage } from '../../common/usage';
import { verdictSchema } from '../../common/types';
import { jsonSchemaOf } from '../../common/json-schema';
import { checkPlan, contentFilterError, cutOffError, type PlanCheck, planJsonSchema } from './plan';
import { readVerdict } from './verdict';
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

/** A drafted plan version: the subtasks and what was repaired in them, or the last errors once attempts ran out. */
export type DraftOutcome =
  { ok: true; subtasks: Subtask[]; repairs: string[] } | { ok: false; errors: string[]; cutOff: boolean };

/**
 * Asks the model for plan version `version`, sending validation errors back until it is valid or the attempts run out.
 * Every refused draft is appended to `rejected`; `refuse` names why a valid draft still cannot run (it goes back to
 * the model like a validation error). Out of attempts it returns the last errors: the caller decides what a
 * plan that could not be made means (a fallback plan first, a `plan_invalid` end on a replan).
 */
export async function draftPlan(
  request: string,
  version: number,
  usage: TokenUsage,
  rejected: RejectedDraft[],
  refuse: (subtasks: Subtask[]) => string | undefined = () => undefined,
): Promise<DraftOutcome> {
  let transcript: string | null = null;
  let append: ChatMessage[] = [
    { role: 'system', content: PLANNER_SYSTEM_PROMPT },
    { role: 'user', content: request },
  ];
  let last: DraftOutcome = { ok: false, errors: [], cutOff: false };
  for (let attempt = 1; attempt <= MAX_PLAN_ATTEMPTS; attempt++) {
    const summary = attempt === 1 ? `plan v${version}` : `plan v${version} (attempt ${attempt})`;
    const reply = await callModel.executeWithOptions({ summary }, [
      { purpose: 'plan', transcript, append, tools: [], responseFormat: { name: 'plan', schema: planJsonSchema() } },
    ]);
    addUsage(usage, reply.usage);
    // A longer plan reached the workflow cut (see REPLY_INLINE_CHARS): say so, rather than that it is not JSON.
    const check: PlanCheck = reply.contentRef
      ? { ok: false, cutOff: false, errors: [PLAN_TOO_LONG] }
      : checkPlan(reply.content, reply.finishReason);
    const refusal = check.ok ? refuse(check.subtasks) : undefined;
    if (check.ok && refusal === undefined) return check;
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
  return last;
}

/**
 * Checks a child's result against its milestone. The verdict is read leniently (./verdict.ts); a reply that holds
 * none counts as "not met" with the reason saying so: the replan it causes is cheaper than trusting an unchecked result.
 */
export async function judge(
  subtask: Subtask,
  result: ExecutorResult,
  usage: TokenUsage,
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
  addUsage(usage, reply.usage);
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
 * The verdict on a finished subtask: its machine checks first (the `checkMilestone` activity, only when it has
 * checks), then the judge. A subtask without checks whose
 * milestone names files gets a check that each exists ({@link impliedChecks}): an executor that claims a file it never
 * wrote does not get past a judge that believes it. A failed check decides the verdict, whatever a judge would say, so
 * the judge is not asked: its reason names every failed check.
 */
export async function checkAndJudge(
  subtask: Subtask,
  result: ExecutorResult,
  workspace: string,
  usage: TokenUsage,
): Promise<Verdict> {
  const planned = subtask.checks ?? [];
  const wanted = planned.length ? planned : impliedChecks(subtask.milestone);
  if (!wanted.length) return judge(subtask, result, usage);
  const checks = await checkMilestone.executeWithOptions({ summary: `check ${subtask.id}` }, [
    { workspace, checks: wanted },
  ]);
  if (checks.some((check) => !check.ok)) return { met: false, reason: failedChecksReason(checks), checks };
  return judge(subtask, result, usage, checks);
}

/**
 * Writes the final report from the request built by `reportRequest`. A report cut off by the length limit is not
 * accepted: it goes back once asking for a shorter one, and if that is cut off too the report is `fallback` (built
 * from the subtasks' results, given why), never half a sentence. A report the provider's content filter withheld is
 * `fallback` at once: asking again would send the same request to the same filter.
 */
export async function writeReport(
  request: string,
  usage: TokenUsage,
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
    addUsage(usage, reply.usage);
    if (reply.finishReason === 'content_filter')
      return fallback("The provider's content filter withheld the model's report");
    if (reply.finishReason !== 'length') return reply.content ?? '';
    transcript = reply.transcript;
    append = [{ role: 'user', content: REPORT_CUT_OFF_CORRECTION }];
  }
  return fallback("The model's report was cut off by the length limit twice");
}
