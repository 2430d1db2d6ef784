/** What the model is told, in one place. Pure string building: safe in workflow code. */
import type { ExecutorResult, Subtask } from './definitions';

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

export const PLANNER_SYSTEM_PROMPT = [
  'You are the planner of an agent. Break the goal into a small number of subtasks that an executor with tools can do',
  'one at a time. Each subtask has an id (short, lowercase, e.g. "s1"), a title, instructions, a milestone (acceptance',
  'criteria a reviewer can check against the result) and dependsOn (ids of subtasks whose results it needs).',
  'Answer with JSON only: {"subtasks": [...]}.',
].join('\n');

export function planRequest(goal: string): string {
  return `Goal: ${goal}`;
}

export function planCorrection(errors: string[]): string {
  return `That plan is invalid:\n${errors.map((error) => `- ${error}`).join('\n')}\nSend a corrected plan as JSON.`;
}

export const REPORT_SYSTEM_PROMPT =
  'You write the final report of a goal from the results of its subtasks. Be concise and factual; say what was done.';

export function reportRequest(goal: string, results: Array<{ subtask: Subtask; result: ExecutorResult }>): string {
  const sections = results.map(
    ({ subtask, result }) =>
      `## ${subtask.id} · ${subtask.title} (${result.ok ? 'done' : `not done: ${result.reason}`})\n${result.answer ?? ''}`,
  );
  return [`Goal: ${goal}`, ...sections].join('\n\n');
}
