/**
 * The outer loop: owns the goal, the plan and the global state. It asks the model for a plan, runs one child
 * executor workflow per subtask (dependencies first), and ends with a report written from the subtasks' results.
 */
import { ApplicationFailure, executeChild, setHandler, workflowInfo } from '@temporalio/workflow';
import { callModel } from './activities';
import {
  type ExecutorResult,
  type GoalInput,
  goalInputSchema,
  type GoalProgress,
  type GoalResult,
  progressQuery,
  type Subtask,
  type SubtaskProgress,
  type TokenUsage,
} from './definitions';
import { executorWorkflow } from './executor';
import { checkPlan, dependencyOrder, planJsonSchema } from './plan';
import { PLANNER_SYSTEM_PROMPT, planCorrection, planRequest, REPORT_SYSTEM_PROMPT, reportRequest } from './prompts';

/** How many times an invalid plan goes back to the model with its errors before the goal fails. */
export const MAX_PLAN_ATTEMPTS = 3;

/** Deterministic, readable child ids (goal, plan version, subtask) so a subtask can be found in the Web UI. */
export function childWorkflowId(goalId: string, planVersion: number, subtaskId: string): string {
  return `${goalId}.v${planVersion}.${subtaskId}`;
}

function addUsage(total: TokenUsage, more: TokenUsage): void {
  total.promptTokens += more.promptTokens;
  total.completionTokens += more.completionTokens;
}

/** Asks the model for a plan, sending validation errors back until it is valid or the attempts run out. */
async function draftPlan(goal: string, usage: TokenUsage): Promise<Subtask[]> {
  let transcript: string | null = null;
  let append = [
    { role: 'system' as const, content: PLANNER_SYSTEM_PROMPT },
    { role: 'user' as const, content: planRequest(goal) },
  ];
  let errors: string[] = [];
  for (let attempt = 1; attempt <= MAX_PLAN_ATTEMPTS; attempt++) {
    const reply = await callModel.executeWithOptions({ summary: `plan v1 (attempt ${attempt})` }, [
      { transcript, append, tools: [], responseFormat: { name: 'plan', schema: planJsonSchema() } },
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
    'PlanInvalid',
  );
}

/** Runs a goal: plan, one child executor per subtask, final report. */
export async function plannerWorkflow(input: GoalInput): Promise<GoalResult> {
  const parsed = goalInputSchema.safeParse(input);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(parsed.error.issues.map((issue) => issue.message).join('; '), 'InvalidGoal');
  }
  const { goal, maxStepsPerSubtask } = parsed.data;
  const goalId = workflowInfo().workflowId;
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  const progress: GoalProgress = { status: 'planning', goal, plan: [], subtasks: [], usage };
  setHandler(progressQuery, () => progress);

  const plan = await draftPlan(goal, usage);
  progress.plan = plan;
  progress.subtasks = plan.map((subtask): SubtaskProgress => ({
    id: subtask.id,
    title: subtask.title,
    status: 'pending',
    steps: 0,
    workflowId: childWorkflowId(goalId, 1, subtask.id),
    usage: { promptTokens: 0, completionTokens: 0 },
  }));
  progress.status = 'running';

  const results = new Map<string, ExecutorResult>();
  for (const subtask of dependencyOrder(plan)) {
    const entry = progress.subtasks.find((candidate) => candidate.id === subtask.id)!;
    entry.status = 'running';
    const context = Object.fromEntries(subtask.dependsOn.map((id) => [id, results.get(id)?.answer ?? '']));
    const result = await executeChild(executorWorkflow, {
      workflowId: entry.workflowId,
      staticSummary: `${subtask.id} · ${subtask.title}`,
      args: [{ subtask, workspace: goalId, context, tools: subtask.tools, budget: { maxSteps: maxStepsPerSubtask } }],
    });
    results.set(subtask.id, result);
    entry.status = result.ok ? 'done' : 'failed';
    entry.steps = result.steps;
    entry.usage = result.usage;
    addUsage(usage, result.usage);
  }

  progress.status = 'reporting';
  const ordered = plan.map((subtask) => ({ subtask, result: results.get(subtask.id)! }));
  const report = await callModel.executeWithOptions({ summary: 'final report' }, [
    {
      transcript: null,
      append: [
        { role: 'system', content: REPORT_SYSTEM_PROMPT },
        { role: 'user', content: reportRequest(goal, ordered) },
      ],
      tools: [],
    },
  ]);
  addUsage(usage, report.usage);
  const ok = ordered.every(({ result }) => result.ok);
  progress.status = ok ? 'completed' : 'failed';
  return {
    ok,
    report: report.content ?? '',
    subtasks: ordered.map(({ subtask, result }) => ({ id: subtask.id, title: subtask.title, result })),
    usage,
  };
}
