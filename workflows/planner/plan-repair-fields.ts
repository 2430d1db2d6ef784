/**
 * Repairs of a draft's fields that the first plan repairs (./plan-repair.ts) left to the model, each with one meaning,
 * so a weak model's plan runs instead of going back and forth until the fallback plan throws its structure away:
 * - ids with capitals, spaces or dots, or longer than 32 characters, become the id they spell (`Step 1` → `step-1`),
 *   and so do the dependencies naming them, when no two ids spell the same;
 * - a plan wrapped in one more object (`{"plan": {"subtasks": [...]}}`) or its list named `steps` or `tasks`;
 * - a missing title (the first line of the instructions), a title over 120 characters (cut), instructions as a list;
 * - tool names in another case or `functions.`-prefixed; names that are no tool are dropped (the subtask could never
 *   call them);
 * - budgets that are no number (the default applies), fractional steps or tokens (rounded up), and budgets beyond
 *   any run ({@link BUDGET_CEILINGS}, which also keeps a timer within what Temporal can schedule);
 * - checks tandem can never evaluate: a path that leaves the workspace (absolute, `~`, `..` past its root) or a kind
 *   it does not know is dropped, since it would fail whatever the subtask did and throw its work away; the judge still
 *   reads the result. `./a.txt` is `a.txt`, and `contains: ""` is a check that the file exists.
 * Pure and sandbox-safe (no `node:path`), so the planner workflow can run it and replay it.
 */
import { isJsonObject } from '../../common/lenient-json';
import { sliceChars } from '../../common/limits';
import { isMcpToolName } from '../../common/mcp';
import { TOOL_NAMES } from '../../common/tools';

type Json = Record<string, unknown>;
/** Budgets beyond these are not a plan but a slip: a subtask runs at most a week, 1,000 steps, 100M tokens. */
export const BUDGET_CEILINGS: Record<string, number> = {
  maxSteps: 1_000,
  maxTokens: 100_000_000,
  maxSeconds: 7 * 24 * 3600,
};

const ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** The id a model's id spells: lower case, other characters as `-`, at most 32 characters. */
function idOf(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 32)
    .replace(/-+$/, '');
}

/** `{"plan": {...}}`, `{"steps": [...]}` or `{"tasks": [...]}` as `{"subtasks": [...]}`; anything else unchanged. */
export function unwrapPlan(plan: Json, repairs: string[]): Json {
  if ('subtasks' in plan) return plan;
  const keys = Object.keys(plan);
  if (keys.length === 1 && isJsonObject(plan[keys[0]]) && 'subtasks' in (plan[keys[0]] as Json)) {
    repairs.push(`the plan was wrapped in "${keys[0]}"; read as the plan`);
    return plan[keys[0]] as Json;
  }
  const list = ['steps', 'tasks'].find((key) => Array.isArray(plan[key]));
  if (!list) return plan;
  repairs.push(`"${list}" read as "subtasks"`);
  const { [list]: subtasks, ...rest } = plan;
  return { ...rest, subtasks };
}

/** Renames ids that are not valid to the ids they spell, with the dependencies on them; see the module comment. */
export function repairIds(subtasks: unknown[], repairs: string[]): unknown[] {
  const ids = subtasks.flatMap((s) => (isJsonObject(s) && typeof s.id === 'string' ? [s.id] : []));
  const renamed = new Map(ids.map((id) => [id, ID.test(id) ? id : idOf(id)]));
  const spelled = [...new Set(ids)].map((id) => renamed.get(id)!);
  if (spelled.includes('') || new Set(spelled).size < spelled.length) return subtasks;
  for (const [from, to] of renamed) if (from !== to) repairs.push(`id "${from}" read as "${to}"`);
  // A dependency names an id as given, or spells it another way (`"S1"` for `s1`).
  const bySpelling = new Map(spelled.map((id) => [idOf(id), id]));
  const dependency = (dep: unknown, where: string) => {
    if (typeof dep !== 'string' || renamed.has(dep)) return typeof dep === 'string' ? renamed.get(dep) : dep;
    const id = bySpelling.get(idOf(dep));
    if (id === undefined) return dep;
    repairs.push(`dependency "${dep}" of subtask "${where}" read as "${id}"`);
    return id;
  };
  return subtasks.map((s) => {
    if (!isJsonObject(s)) return s;
    const id = typeof s.id === 'string' ? renamed.get(s.id)! : s.id;
    const dependsOn = Array.isArray(s.dependsOn) ? s.dependsOn.map((dep) => dependency(dep, String(id))) : s.dependsOn;
    return { ...s, id, ...(dependsOn === undefined ? {} : { dependsOn }) };
  });
}

/** Title and instructions in the shape the schema wants, when that has one meaning. */
export function repairTexts(subtask: Json, where: string, repairs: string[]): void {
  if (Array.isArray(subtask.instructions) && subtask.instructions.every((line) => typeof line === 'string')) {
    repairs.push(`instructions of ${where} were a list; read as lines`);
    subtask.instructions = subtask.instructions.join('\n');
  }
  const title = typeof subtask.title === 'string' ? subtask.title.trim() : '';
  if (title === '' && typeof subtask.instructions === 'string' && subtask.instructions.trim() !== '') {
    repairs.push(`${where} had no title; its instructions' first line is the title`);
    subtask.title = subtask.instructions.trim().split('\n')[0].trim();
  }
  if (typeof subtask.title === 'string' && subtask.title.length > 120) {
    repairs.push(`title of ${where} cut to 120 characters`);
    subtask.title = `${sliceChars(subtask.title, 119)}…`;
  }
}

/** Tool names as the tools they name; names that are no tool dropped. */
export function repairTools(tools: unknown[], where: string, repairs: string[]): unknown[] {
  return tools.flatMap((raw) => {
    if (typeof raw !== 'string') return [raw];
    const name = raw.trim().replace(/^functions?[.:]/i, '');
    const builtIn = TOOL_NAMES.find((tool) => tool === name.toLowerCase().replace(/[\s-]+/g, '_'));
    if (builtIn) {
      if (builtIn !== raw) repairs.push(`tool "${raw}" of ${where} read as "${builtIn}"`);
      return [builtIn];
    }
    if (isMcpToolName(raw)) return [raw];
    repairs.push(`tool "${raw}" of ${where} is no tool; dropped`);
    return [];
  });
}

/** A budget's value as a usable number (rounded up, at most its ceiling), or undefined for the default. */
export function repairBudgetValue(field: string, value: unknown, where: string, repairs: string[]): unknown {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    repairs.push(`budget.${field} of ${where} is not a number (${JSON.stringify(value)}); the default applies`);
    return undefined;
  }
  const whole = field === 'maxSeconds' ? value : Math.ceil(value);
  if (whole !== value) repairs.push(`budget.${field} of ${where} rounded up from ${value} to ${whole}`);
  const ceiling = BUDGET_CEILINGS[field];
  if (whole > ceiling) {
    repairs.push(`budget.${field} of ${where} lowered from ${whole} to the ceiling ${ceiling}`);
    return ceiling;
  }
  return whole;
}

/** A workspace-relative path in plain form, or undefined when it leaves the workspace. */
function insideWorkspace(file: string): string | undefined {
  if (/^(?:[/\\~]|[A-Za-z]:)/.test(file)) return undefined;
  const parts: string[] = [];
  for (const part of file.split(/[/\\]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

/** Checks tandem can evaluate, in plain form; see the module comment. */
export function repairChecks(checks: unknown[], where: string, repairs: string[]): unknown[] {
  return checks.flatMap((check) => {
    if (!isJsonObject(check)) return [check];
    // A check with an expression and no kind means the value kind: it is the only kind with that field.
    if (check.kind === undefined && typeof check.expression === 'string') {
      repairs.push(`check of ${where} with an expression and no kind read as kind "value"`);
      check = { kind: 'value', ...check };
    }
    if (!isJsonObject(check)) return [check];
    if (check.kind !== undefined && check.kind !== 'file' && check.kind !== 'value') {
      repairs.push(`check of ${where} of kind ${JSON.stringify(check.kind)} is not one tandem can run; dropped`);
      return [];
    }
    if (typeof check.file !== 'string') return [check];
    const file = insideWorkspace(check.file.trim());
    if (file === undefined) {
      repairs.push(`check of ${where} on "${check.file}" leaves the workspace, so it could never hold; dropped`);
      return [];
    }
    const out: Json = { ...check, file };
    if (file !== check.file) repairs.push(`check path "${check.file}" of ${where} read as "${file}"`);
    if (out.contains === '') {
      repairs.push(`check of ${where} on "${file}" contains "": read as the file exists`);
      delete out.contains;
    }
    return [out];
  });
}
