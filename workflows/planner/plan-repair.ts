/**
 * What plan validation repairs in a model's draft before checking it, without guessing: each repair has exactly one
 * meaning, and each is recorded (one line) in the plan version's `repairs`. What could mean two things (a dependency
 * on an id that does not exist, a duplicate id some subtask depends on, a cycle) is left for the checks in ./plan.ts,
 * which send it back to the model. Pure, so the planner workflow can run it and replay it.
 *
 * The kinds of breakage are the ones weak models are known for (SmolLM2-135M on llama.cpp, and reports of other
 * agent planners): JSON in a code fence or inside prose, trailing commas, single-quoted strings, a bare list instead
 * of `{"subtasks": [...]}`, extra or snake_case fields, a string where a list belongs, numbers as strings, duplicate
 * ids, a tool listed twice, `"tools": []`, and budgets too small to do anything. The JSON itself is read by
 * common/lenient-json.ts, which the judge's verdict and tool-call arguments share.
 */
import { isJsonObject } from '../../common/lenient-json';
import { MIN_SUBTASK_SECONDS, MIN_SUBTASK_STEPS, MIN_SUBTASK_TOKENS, type Subtask } from '../../common/types';
import { repairBudgetValue, repairChecks, repairIds, repairTexts, repairTools, unwrapPlan } from './plan-repair-fields';

const SUBTASK_FIELDS = ['id', 'title', 'instructions', 'milestone', 'dependsOn', 'tools', 'budget', 'checks'];
const BUDGET_FLOORS: Record<string, number> = {
  maxSteps: MIN_SUBTASK_STEPS,
  maxTokens: MIN_SUBTASK_TOKENS,
  maxSeconds: MIN_SUBTASK_SECONDS,
};

/** `depends_on` → `dependsOn`: the same name in another case convention, not a guess. */
function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** A numeric string as the number it spells (`"5"` → 5); anything else unchanged. */
function numberOf(value: unknown): unknown {
  return typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
}

/** Renames snake_case keys to the schema's camelCase and drops keys the schema does not know. */
function knownFields(
  object: Record<string, unknown>,
  fields: string[],
  where: string,
  repairs: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const name = fields.includes(key) ? key : camelCase(key);
    if (!fields.includes(name)) repairs.push(`unknown field "${key}" of ${where} dropped`);
    else if (name in out) repairs.push(`field "${key}" of ${where} dropped: "${name}" is already given`);
    else {
      if (name !== key) repairs.push(`field "${key}" of ${where} read as "${name}"`);
      out[name] = value;
    }
  }
  return out;
}

/** A list field given as one value (`"dependsOn": "s1"`) or null, as a list; duplicates listed once. */
function listOf(value: unknown, field: string, where: string, repairs: string[]): unknown {
  if (value === null) {
    repairs.push(`${field} of ${where} was null; read as absent`);
    return undefined;
  }
  if (typeof value === 'string' || typeof value === 'number') {
    repairs.push(`${field} of ${where} was one value, not a list; read as [${JSON.stringify(String(value))}]`);
    return [String(value)];
  }
  if (!Array.isArray(value)) return value;
  const items = value.map((item) => (typeof item === 'number' ? String(item) : item));
  const once = items.filter((item, index) => items.indexOf(item) === index);
  if (once.length < items.length) repairs.push(`${field} of ${where} listed an entry twice; listed once`);
  return once;
}

function repairBudget(budget: unknown, where: string, repairs: string[]): unknown {
  if (budget === null) {
    repairs.push(`budget of ${where} was null; read as absent`);
    return undefined;
  }
  if (!isJsonObject(budget)) return budget;
  const out = knownFields(budget, Object.keys(BUDGET_FLOORS), `the budget of ${where}`, repairs);
  for (const [field, floor] of Object.entries(BUDGET_FLOORS)) {
    let value = numberOf(out[field]);
    if (value !== undefined && value !== null) value = repairBudgetValue(field, value, where, repairs);
    if (value === null || value === undefined) {
      delete out[field];
      continue;
    }
    if (typeof value === 'number' && value < floor) {
      repairs.push(`budget.${field} of ${where} raised from ${value} to the floor ${floor}`);
      out[field] = floor;
    } else out[field] = value;
  }
  return out;
}

function repairSubtask(raw: unknown, index: number, repairs: string[]): unknown {
  if (!isJsonObject(raw)) return raw;
  const where = `subtask ${typeof raw.id === 'string' || typeof raw.id === 'number' ? `"${raw.id}"` : index + 1}`;
  const subtask = knownFields(raw, SUBTASK_FIELDS, where, repairs);
  repairTexts(subtask, where, repairs);
  if (typeof subtask.id === 'number') {
    repairs.push(`id ${subtask.id} of ${where} read as the string "${subtask.id}"`);
    subtask.id = String(subtask.id);
  }
  if ('dependsOn' in subtask) {
    const dependsOn = listOf(subtask.dependsOn, 'dependsOn', where, repairs);
    if (dependsOn === undefined) delete subtask.dependsOn;
    else subtask.dependsOn = dependsOn;
  }
  if ('tools' in subtask) {
    let tools = listOf(subtask.tools, 'tools', where, repairs);
    if (Array.isArray(tools) && tools.length === 0) repairs.push(`tools of ${where} was []: all tools are offered`);
    else if (Array.isArray(tools)) {
      const kept = repairTools(tools, where, repairs);
      if (kept.length === 0) repairs.push(`tools of ${where} named no tool: all tools are offered`);
      tools = kept;
    }
    if (tools === undefined || (Array.isArray(tools) && tools.length === 0)) delete subtask.tools;
    else subtask.tools = tools;
  }
  if ('budget' in subtask) {
    const budget = repairBudget(subtask.budget, where, repairs);
    if (budget === undefined) delete subtask.budget;
    else subtask.budget = budget;
  }
  if ('checks' in subtask) {
    if (subtask.checks === null) {
      repairs.push(`checks of ${where} was null; read as absent`);
      delete subtask.checks;
    } else if (isJsonObject(subtask.checks)) {
      repairs.push(`checks of ${where} was one check, not a list; read as a list of it`);
      subtask.checks = [subtask.checks];
    }
    if (Array.isArray(subtask.checks)) {
      subtask.checks = repairChecks(subtask.checks, where, repairs);
      if ((subtask.checks as unknown[]).length === 0) delete subtask.checks;
    }
  }
  return subtask;
}

/**
 * Repairs the shape of a parsed draft (before the schema check), with the field repairs of ./plan-repair-fields.ts;
 * returns the repaired value and what was repaired.
 */
export function repairShape(json: unknown): { value: unknown; repairs: string[] } {
  const repairs: string[] = [];
  let plan = json;
  if (Array.isArray(plan)) {
    repairs.push('a bare list of subtasks was read as {"subtasks": [...]}');
    plan = { subtasks: plan };
  }
  if (!isJsonObject(plan)) return { value: plan, repairs };
  const known = knownFields(unwrapPlan(plan, repairs), ['subtasks'], 'the plan', repairs);
  if (Array.isArray(known.subtasks)) {
    const subtasks = known.subtasks.map((subtask, index) => repairSubtask(subtask, index, repairs));
    known.subtasks = repairIds(subtasks, repairs);
  }
  return { value: known, repairs };
}

/** A fresh id for the `n`th copy of `id`: `s1-2`, `s1-3`..., kept within the 32-character id limit and unused. */
function freshId(id: string, taken: Set<string>): string {
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = `${id.slice(0, 32 - suffix.length)}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * Repairs of a schema-valid plan: a subtask that depends on itself no longer does, a subtask repeated word for word
 * is listed once, and duplicate ids that no dependency names get fresh ids (no subtask can mean either copy, so renaming changes nothing). Duplicates some
 * subtask depends on are left: which copy it meant cannot be told.
 */
export function repairSubtasks(subtasks: Subtask[]): { subtasks: Subtask[]; repairs: string[] } {
  const repairs: string[] = [];
  let repaired = subtasks.map((subtask) => {
    if (!subtask.dependsOn.includes(subtask.id)) return subtask;
    repairs.push(`subtask "${subtask.id}" depended on itself; that dependency was dropped`);
    return { ...subtask, dependsOn: subtask.dependsOn.filter((id) => id !== subtask.id) };
  });
  // A subtask repeated word for word is one subtask: whichever copy a dependency names, it is the same work.
  repaired = repaired.filter((subtask, index) => {
    const twin = repaired.findIndex((other) => JSON.stringify(other) === JSON.stringify(subtask));
    if (twin === index) return true;
    repairs.push(`subtask "${subtask.id}" was listed twice, word for word; listed once`);
    return false;
  });
  const named = new Set(repaired.flatMap((subtask) => subtask.dependsOn));
  const taken = new Set(repaired.map((subtask) => subtask.id));
  const seen = new Set<string>();
  repaired = repaired.map((subtask) => {
    if (!seen.has(subtask.id) || named.has(subtask.id)) {
      seen.add(subtask.id);
      return subtask;
    }
    const id = freshId(subtask.id, taken);
    taken.add(id);
    repairs.push(`duplicate subtask id "${subtask.id}" (no subtask depends on it): this copy is now "${id}"`);
    return { ...subtask, id };
  });
  return { subtasks: repaired, repairs };
}
