/** Plan validation: pure, so the planner workflow can run it and replay it. */
import { planSchema, type Subtask, type SubtaskStatus } from '../../common/types';
import { jsonSchemaOf } from '../../common/json-schema';

/** A plan with more subtasks than this is refused: it is almost always the model looping, not a real plan. */
export const MAX_SUBTASKS = 12;

export type PlanCheck = { ok: true; subtasks: Subtask[] } | { ok: false; errors: string[] };

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

/** Parses the model's reply and checks the plan: schema, size, unique ids, known dependencies, no cycle. */
export function checkPlan(content: string | null): PlanCheck {
  let json: unknown;
  try {
    json = JSON.parse(content ?? '');
  } catch {
    return { ok: false, errors: [`the reply is not JSON: ${JSON.stringify((content ?? '').slice(0, 200))}`] };
  }
  const parsed = planSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'plan'}: ${issue.message}`),
    };
  }
  const subtasks = parsed.data.subtasks;
  const errors: string[] = [];
  if (subtasks.length > MAX_SUBTASKS)
    errors.push(`${subtasks.length} subtasks is too many; use at most ${MAX_SUBTASKS}`);
  const ids = subtasks.map((subtask) => subtask.id);
  for (const id of new Set(ids.filter((id, index) => ids.indexOf(id) !== index))) {
    errors.push(`duplicate subtask id "${id}"`);
  }
  for (const subtask of subtasks) {
    for (const dependency of subtask.dependsOn) {
      if (!ids.includes(dependency)) errors.push(`subtask "${subtask.id}" depends on unknown subtask "${dependency}"`);
    }
  }
  const cycle = errors.length === 0 ? findCycle(subtasks) : null;
  if (cycle) errors.push(`dependency cycle: ${cycle.join(' → ')}`);
  return errors.length ? { ok: false, errors } : { ok: true, subtasks };
}

/** The JSON schema the planner's structured output must follow, generated from the zod schema. */
export function planJsonSchema(): Record<string, unknown> {
  return jsonSchemaOf(planSchema);
}

/** Pending subtasks whose dependencies are all done, in plan order: what may start now. */
export function readySubtasks(subtasks: Subtask[], statusOf: (id: string) => SubtaskStatus | undefined): Subtask[] {
  return subtasks.filter(
    (subtask) => statusOf(subtask.id) === 'pending' && subtask.dependsOn.every((id) => statusOf(id) === 'done'),
  );
}
