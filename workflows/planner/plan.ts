/** Plan validation: pure, so the planner workflow can run it and replay it. */
import { planSchema, type Subtask, type SubtaskStatus } from '../../common/types';
import { jsonSchemaOf } from '../../common/json-schema';
import { readJson } from '../../common/lenient-json';
import { sliceChars } from '../../common/limits';
import { TOOL_NAMES } from '../../common/tools';
import { repairShape, repairSubtasks } from './plan-repair';

/**
 * A plan with more subtasks than this is refused: it is almost always the model looping, not a real plan. 24 leaves
 * room for wide plans (a goal of 20 parallel subtasks is tested) while a runaway list is still caught.
 */
export const MAX_SUBTASKS = 24;

/**
 * A checked draft: the plan and what was repaired in it, or the errors that must go back to the model (deduplicated;
 * `cutOff` when the reply was cut off by the length limit, which no repair can undo).
 */
export type PlanCheck =
  { ok: true; subtasks: Subtask[]; repairs: string[] } | { ok: false; errors: string[]; cutOff: boolean };

function findCycle(subtasks: Subtask[]): string[] | null {
  const byId = new Map(subtasks.map((subtask) => [subtask.id, subtask]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    for (const dependency of byId.get(id)?.dependsOn ?? []) {
      const cycle = visit(dependency, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return null;
  };
  for (const subtask of subtasks) {
    const cycle = visit(subtask.id, []);
    if (cycle) return cycle;
  }
  return null;
}

/**
 * Why a reply the provider's content filter withheld (`finish_reason: content_filter`) is refused: it is complete, but
 * a refusal, not the plan, verdict or report asked for; whatever text came with it is not read.
 */
export function contentFilterError(what: string): string {
  return `the ${what} was withheld by the provider's content filter (finish_reason content_filter)`;
}

/** Why a reply cut off by the length limit is refused, naming it as such (its JSON would only be "invalid"). */
export function cutOffError(content: string | null, what: string): string {
  const text = content ?? '';
  return (
    `the ${what} was cut off by the length limit after ${text.length} characters (it ends ` +
    `${JSON.stringify(text.slice(-60))}); send a shorter one`
  );
}

/**
 * Reads the model's reply and checks the plan: repairs what it can without guessing (./plan-repair.ts), then schema,
 * size, unique ids, known dependencies, no cycle. `finishReason` `length` means the reply was cut off, and
 * `content_filter` that the provider withheld it: either is refused as such, never parsed.
 */
export function checkPlan(content: string | null, finishReason = 'stop'): PlanCheck {
  if (finishReason === 'content_filter') {
    return {
      ok: false,
      cutOff: false,
      errors: [`${contentFilterError('plan')}: state the subtasks plainly, without the content the filter objects to`],
    };
  }
  if (finishReason === 'length') {
    return {
      ok: false,
      cutOff: true,
      errors: [`${cutOffError(content, 'plan')}: fewer subtasks, shorter instructions`],
    };
  }
  const read = readJson(content, 'plan');
  if (!read.ok) return { ok: false, cutOff: false, errors: [read.error] };
  const shape = repairShape(read.json);
  const parsed = planSchema.safeParse(shape.value);
  if (!parsed.success) return { ok: false, cutOff: false, errors: schemaErrors(parsed.error.issues) };
  const { subtasks, repairs } = repairSubtasks(parsed.data.subtasks);
  const errors = graphErrors(subtasks);
  if (errors.length) return { ok: false, cutOff: false, errors };
  return { ok: true, subtasks, repairs: [...read.repairs, ...shape.repairs, ...repairs] };
}

function schemaErrors(issues: Array<{ path: PropertyKey[]; message: string }>): string[] {
  return [...new Set(issues.map((issue) => `${issue.path.map(String).join('.') || 'plan'}: ${issue.message}`))];
}

/** Size, unique ids, known dependencies and no cycle; each error once. */
function graphErrors(subtasks: Subtask[]): string[] {
  const errors: string[] = [];
  if (subtasks.length > MAX_SUBTASKS)
    errors.push(`${subtasks.length} subtasks is too many; use at most ${MAX_SUBTASKS}`);
  const ids = subtasks.map((subtask) => subtask.id);
  for (const id of new Set(ids.filter((id, index) => ids.indexOf(id) !== index))) {
    const dependents = subtasks.filter((subtask) => subtask.dependsOn.includes(id)).map((subtask) => subtask.id);
    errors.push(
      `duplicate subtask id "${id}" (${dependents.join(', ')} depend${dependents.length === 1 ? 's' : ''} on it, so ` +
        'which one is meant cannot be told); give each subtask its own id',
    );
  }
  for (const subtask of subtasks) {
    for (const dependency of subtask.dependsOn) {
      if (!ids.includes(dependency)) errors.push(`subtask "${subtask.id}" depends on unknown subtask "${dependency}"`);
    }
  }
  const cycle = errors.length === 0 ? findCycle(subtasks) : null;
  if (cycle) errors.push(`dependency cycle: ${cycle.join(' → ')}`);
  return [...new Set(errors)];
}

/** The milestone of the fallback plan's one subtask. */
export const FALLBACK_MILESTONE = 'the goal is achieved';

/**
 * The plan run when the model cannot produce a valid first plan: one subtask that is the goal itself. The executor's
 * loop alone is better than nothing, and its judge still checks the result against the goal.
 */
export function fallbackPlan(goal: string): Subtask[] {
  const firstLine = goal.split('\n')[0].trim();
  return [
    {
      id: 'goal',
      title: firstLine.length > 120 ? `${sliceChars(firstLine, 119)}…` : firstLine,
      instructions: goal,
      milestone: FALLBACK_MILESTONE,
      dependsOn: [],
    },
  ];
}

/**
 * The JSON schema the planner's structured output must follow: the zod schema's, with the bounds a grammar-constrained
 * server needs to keep a plan finite (issue 25; every other string and array is bounded at the model boundary).
 * `tools` items are an enum of the built-in names, not `<server>__<tool>` pattern: under llama.cpp's grammar that
 * pattern let a small model write tool names without end. The planner has not discovered MCP tools (executors do), so
 * a plan that needs them leaves `tools` out, which offers every tool; validation still accepts MCP names.
 * `dependsOn` items take the id's pattern, and `subtasks` at most {@link MAX_SUBTASKS} items.
 */
export function planJsonSchema(): Record<string, unknown> {
  const schema = jsonSchemaOf(planSchema) as PlanJsonSchema;
  const subtasks = schema.properties.subtasks;
  const { id, dependsOn, tools } = subtasks.items.properties;
  subtasks.maxItems = MAX_SUBTASKS;
  dependsOn.items = { ...id };
  tools.items = { type: 'string', enum: [...TOOL_NAMES] };
  tools.description =
    'Built-in tools the executor may call; absent or [] means all tools, MCP tools included (escalate is always offered)';
  return schema;
}

/** The parts of the generated plan schema {@link planJsonSchema} tightens. */
interface PlanJsonSchema extends Record<string, unknown> {
  properties: {
    subtasks: {
      maxItems?: number;
      items: { properties: Record<'id' | 'dependsOn' | 'tools', Record<string, unknown>> };
    };
  };
}

/** Pending subtasks whose dependencies are all done, in plan order: what may start now. */
export function readySubtasks(subtasks: Subtask[], statusOf: (id: string) => SubtaskStatus | undefined): Subtask[] {
  return subtasks.filter(
    (subtask) => statusOf(subtask.id) === 'pending' && subtask.dependsOn.every((id) => statusOf(id) === 'done'),
  );
}
