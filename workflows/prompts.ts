/** What the model is told, in one place. Pure string building: safe in workflow code. */
import { describeCheck, describeOutcome } from '../common/check-lines';
import type { CheckOutcome } from '../common/checks';
import {
  type ExecutorAnswered,
  type ExecutorResult,
  outcomeText,
  type PlanVersion,
  type Subtask,
  type SubtaskStatus,
} from '../common/types';
import { sliceChars } from '../common/limits';
import { INTERRUPT_LEAD } from '../common/fork';

export function executorSystemPrompt(subtask: Subtask): string {
  return [
    'You are the executor of one subtask of a larger goal. Work step by step: call tools when you need them, and',
    'when the subtask is done, answer with a short final answer (no tool call) that shows the milestone is met.',
    `Subtask ${subtask.id}: ${subtask.title}`,
    `Milestone (acceptance criteria): ${subtask.milestone}`,
  ].join('\n');
}

export function executorTaskMessage(subtask: Subtask, context: Record<string, string> | undefined): string {
  const inputs = Object.entries(context ?? {}).map(([id, answer]) => `Result of subtask ${id}:\n${answer}`);
  return [subtask.instructions, ...inputs].join('\n\n');
}

/** A message that arrived on the `interrupt` signal, as the model sees it at the next input assembly. */
export function interruptMessage(message: string): string {
  return `${INTERRUPT_LEAD}${message}`;
}

// Observations for bad model output: each says what was wrong and how to do it right, so the model can correct itself.

export function unknownToolObservation(name: string, offered: readonly string[]): string {
  return `unknown tool "${name}"; the tools you can call are: ${offered.join(', ')}`;
}

export function badArgumentsObservation(name: string, problem: string): string {
  return `the arguments of ${name} are not valid (${problem}); send a JSON object that matches the tool's schema`;
}

export const EMPTY_REPLY_OBSERVATION =
  'your reply was empty (no text and no tool call); call a tool, or answer with the final answer as text';

export const CUT_OFF_OBSERVATION =
  'your reply was cut off by the length limit and was discarded; send a shorter reply (split large content into ' +
  'several tool calls)';

/** Why an executor ended on a reply the provider's content filter withheld (`reason: 'content_filter'`). */
export const CONTENT_FILTER_END =
  "the provider's content filter withheld the model's reply (finish_reason content_filter); nothing of it was used " +
  'or run: rephrase the subtask, or check what in its input the filter objects to';

/**
 * The planner's one decision: the subtasks. Short, with one example, because a small local model (issue 24) follows a
 * short prompt and an example better than a page of rules; the schema itself travels with the request
 * (activities/model/structured-output.ts), and what the model gets wrong about checks is repaired in code
 * (./planner/check-repair.ts), so the prompt only says the one rule code cannot enforce: no result of its own making.
 */
export const PLANNER_SYSTEM_PROMPT = [
  'You plan the work of an executor that has tools. Split the goal into as few subtasks as it needs (often one).',
  'A subtask that needs the result of another lists that id in dependsOn. Never work out a result yourself: the',
  'executor computes it with its calculator. To check a file the goal names, add a check: {"file": "<path>"}, or',
  '{"kind": "value", "file": "<path>", "expression": "<arithmetic copied from the goal>"}.',
  'Example, for the goal "Compute 2+3 and save it to sum.txt":',
  '{"subtasks": [{"id": "s1", "title": "Save the sum",',
  '"instructions": "Compute 2+3 with the calculator and write the result to sum.txt",',
  '"milestone": "sum.txt holds the sum", "dependsOn": [],',
  '"checks": [{"kind": "value", "file": "sum.txt", "expression": "2+3"}]}]}',
  'Answer with the JSON plan only.',
].join('\n');

export function planRequest(goal: string): string {
  return `Goal: ${goal}`;
}

export function planCorrection(errors: string[]): string {
  return `That plan is invalid:\n${errors.map((error) => `- ${error}`).join('\n')}\nSend a corrected plan as JSON.`;
}

/** What the replanner sees: the evidence first (why), then the plan it replaces and the results worth keeping. */
export function replanRequest(
  goal: string,
  evidence: string[],
  current: PlanVersion,
  completed: Array<{ subtask: Subtask; answer: string }>,
  budgetLeft: string,
): string {
  const kept = completed.length
    ? completed.map(({ subtask, answer }) => `- ${subtask.id} (${subtask.title}): ${answer}`).join('\n')
    : '(none)';
  return [
    `Goal: ${goal}`,
    `The current plan (version ${current.version}) must change. Evidence:\n${evidence.map((line) => `- ${line}`).join('\n')}`,
    `Current plan:\n${JSON.stringify({ subtasks: current.subtasks }, null, 2)}`,
    `Completed subtasks (keep a subtask's id to keep its result; it will not run again):\n${kept}`,
    `Budget left: ${budgetLeft}.`,
    'Send the complete new plan as JSON.',
  ].join('\n\n');
}

/**
 * The judge's one decision: is the milestone met. Short for small models; the claim net (../common/claims.ts) and the
 * checks decide in code what they can before and after it, so the prompt keeps only the rule the judge must apply.
 */
export const JUDGE_SYSTEM_PROMPT = [
  'Decide one thing: is the milestone of this step met?',
  'Only a tool call that succeeded proves a file was written, a value computed or a page fetched; an answer that',
  'says so without one proves nothing, and then the milestone is not met.',
  'Answer with JSON only: {"met": true or false, "reason": "<one sentence citing the tool calls or the result>"}.',
].join('\n');

/** Longest tool-call arguments quoted to the judge; the record says what ran, not everything it was given. */
const JUDGE_ARGUMENTS_LIMIT = 300;

/** The tool-call record as the judge reads it: one line per call, with its arguments and whether it succeeded. */
export function toolCallRecord(result: ExecutorResult): string {
  if (result.toolCalls.length === 0) return 'Tool calls: none (the executor called no tool).';
  const lines = result.toolCalls.map((call) => {
    const args =
      call.arguments.length > JUDGE_ARGUMENTS_LIMIT
        ? `${sliceChars(call.arguments, JUDGE_ARGUMENTS_LIMIT)}…`
        : call.arguments;
    return `- step ${call.step}: ${call.name} ${args} → ${call.ok ? 'succeeded' : 'FAILED'}`;
  });
  return `Tool calls (${result.toolCalls.length}):\n${lines.join('\n')}`;
}

export function judgeRequest(subtask: Subtask, result: ExecutorAnswered, checks?: CheckOutcome[]): string {
  return [
    `Step ${subtask.id}: ${subtask.title}`,
    `Milestone: ${subtask.milestone}`,
    ...(checks?.length ? [`Checks tandem ran in the workspace:\n${checks.map(describeOutcome).join('\n')}`] : []),
    `Answer:\n${result.answer}`,
    toolCallRecord(result),
    `Evidence (observations and answer):\n${result.evidence || '(empty)'}`,
  ].join('\n\n');
}

/** The verdict's reason when a check failed: it names every failed check. */
export function failedChecksReason(checks: CheckOutcome[]): string {
  const failed = checks.filter((check) => !check.ok);
  return `check${failed.length === 1 ? '' : 's'} failed: ${failed.map((check) => `${describeCheck(check)}: ${check.detail}`).join('; ')}`;
}

export const REPORT_SYSTEM_PROMPT =
  'You write the final report of a goal from the results of its subtasks. Be concise and factual; say what was done.';

/** Sent back when the report was cut off by the length limit: it is not accepted as final. */
export const REPORT_CUT_OFF_CORRECTION =
  'Your report was cut off by the length limit and is not accepted. Write it again, much shorter (at most 150 words).';

/**
 * The report when the model gave none that can be used (`why`: cut off twice, withheld by the content filter): built
 * from the subtask results themselves, saying so, so a goal never ends on half a sentence or on a refusal.
 */
export function reportFromResults(
  results: Array<{ subtask: Subtask; status: SubtaskStatus; result?: ExecutorResult }>,
  why: string,
): string {
  return [
    `${why}; this report is the subtasks' own results.`,
    ...results.map(
      ({ subtask, status, result }) =>
        `- ${subtask.id} · ${subtask.title} (${status}): ${result ? outcomeText(result) : 'no result'}`,
    ),
  ].join('\n');
}

/** Why a subtask is not done: its run's stop reason, or, for a run that answered (a missed milestone), its status. */
function notDoneWhy(status: SubtaskStatus, result: ExecutorResult | undefined): string {
  return result && !result.ok ? result.reason : status;
}

/** The line tandem adds to a report when a subtask claimed an effect no available tool can have. */
export function missingToolsLine(tools: string[]): string {
  return `Missing tool${tools.length === 1 ? '' : 's'}: ${tools.join('; ')}. No subtask could do this with the tools it had; add the tool (an MCP server, docs/tools.md) and run the goal again.`;
}

/** One section per subtask of the final plan; a goal that ended early says why, and what was tried. */
export function reportRequest(
  goal: string,
  results: Array<{ subtask: Subtask; status: SubtaskStatus; result?: ExecutorResult }>,
  ending?: { reason: string; replans: PlanVersion[]; detail?: string },
): string {
  const sections = results.map(
    ({ subtask, status, result }) =>
      `## ${subtask.id} · ${subtask.title} (${status === 'done' ? 'done' : `not done: ${notDoneWhy(status, result)}`})\n` +
      (result ? outcomeText(result) : ''),
  );
  const early = ending
    ? [
        `The goal ended before it was done (${ending.reason}); report what was achieved and what is missing.`,
        ...ending.replans.map((plan) => `Replan to v${plan.version}: ${plan.reason}`),
        ...(ending.detail ? [ending.detail] : []),
      ]
    : [];
  return [`Goal: ${goal}`, ...early, ...sections].join('\n\n');
}

/** What the model sees for a call a person denied (or nobody approved in time): it was not run, and why. */
export function deniedObservation(tool: string, reason: string): string {
  return `the call to ${tool} was not run: it needed approval and was denied (${reason}); do not repeat it unchanged`;
}

/** What the model sees when an MCP tool's server stayed out of reach after retries. */
export function toolUnavailableObservation(tool: string, why: string): string {
  return `${tool} is unavailable right now (${why}); use another tool or say what is missing`;
}
