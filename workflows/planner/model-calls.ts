/**
 * The planner's LLM work, one `callModel` activity per call: drafting a plan version (with its bounded correction
 * round), judging a result against its milestone, and writing the report. Each adds its tokens to the goal's usage.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../../common/failures';
import { callModel } from '../activity-stubs';
import type { ChatMessage, ExecutorResult, Subtask, Verdict } from '../../common/types';
import { addUsage, type TokenUsage } from '../../common/usage';
import { verdictSchema } from '../../common/types';
import { jsonSchemaOf } from '../../common/json-schema';
import { checkPlan, planJsonSchema } from './plan';
import {
  JUDGE_SYSTEM_PROMPT,
  judgeRequest,
  PLANNER_SYSTEM_PROMPT,
  planCorrection,
  REPORT_SYSTEM_PROMPT,
} from '../prompts';

/** How many times an invalid plan goes back to the model with its errors before the goal fails. */
export const MAX_PLAN_ATTEMPTS = 3;

/**
 * Asks the model for plan version `version`, sending validation errors back until it is valid or the attempts run out.
 * Out of attempts it throws a non-retryable `PlanInvalid` failure: without a valid plan there is nothing to run.
 */
export async function draftPlan(request: string, version: number, usage: TokenUsage): Promise<Subtask[]> {
  let transcript: string | null = null;
  let append: ChatMessage[] = [
    { role: 'system', content: PLANNER_SYSTEM_PROMPT },
    { role: 'user', content: request },
  ];
  let errors: string[] = [];
  for (let attempt = 1; attempt <= MAX_PLAN_ATTEMPTS; attempt++) {
    const summary = attempt === 1 ? `plan v${version}` : `plan v${version} (attempt ${attempt})`;
    const reply = await callModel.executeWithOptions({ summary }, [
      { purpose: 'plan', transcript, append, tools: [], responseFormat: { name: 'plan', schema: planJsonSchema() } },
    ]);
    addUsage(usage, reply.usage);
    const check = checkPlan(reply.content);
    if (check.ok) return check.subtasks;
    errors = check.errors;
    transcript = reply.transcript;
    append = [{ role: 'user', content: planCorrection(errors) }];
  }
  throw ApplicationFailure.nonRetryable(
    `the model did not produce a valid plan in ${MAX_PLAN_ATTEMPTS} attempts; last errors: ${errors.join('; ')}`,
    FailureType.PlanInvalid,
  );
}

/**
 * Checks a child's result against its milestone. A reply that is not a verdict counts as "not met" with the reason
 * saying so: the replan it causes is cheaper than trusting an unchecked result.
 */
export async function judge(subtask: Subtask, result: ExecutorResult, usage: TokenUsage): Promise<Verdict> {
  const reply = await callModel.executeWithOptions({ summary: `judge ${subtask.id}` }, [
    {
      purpose: 'judge',
      subtaskId: subtask.id,
      transcript: null,
      append: [
        { role: 'system', content: JUDGE_SYSTEM_PROMPT },
        { role: 'user', content: judgeRequest(subtask, result) },
      ],
      tools: [],
      responseFormat: { name: 'verdict', schema: jsonSchemaOf(verdictSchema) },
    },
  ]);
  addUsage(usage, reply.usage);
  try {
    return verdictSchema.parse(JSON.parse(reply.content ?? ''));
  } catch {
    return {
      met: false,
      reason: `the judge's reply is not a verdict: ${JSON.stringify(reply.content?.slice(0, 200))}`,
    };
  }
}

/** Writes the final report from the request built by `reportRequest`. */
export async function writeReport(request: string, usage: TokenUsage): Promise<string> {
  const reply = await callModel.executeWithOptions({ summary: 'final report' }, [
    {
      purpose: 'report',
      transcript: null,
      append: [
        { role: 'system', content: REPORT_SYSTEM_PROMPT },
        { role: 'user', content: request },
      ],
      tools: [],
    },
  ]);
  addUsage(usage, reply.usage);
  return reply.content ?? '';
}
