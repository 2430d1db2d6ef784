/**
 * What plan validation repairs in a model's draft before checking it, without guessing: each repair has exactly one
 * meaning, and each is recorded (one line) in the plan version's `repairs`. What could mean two things (a dependency
 * on an id that does not exist, a duplicate id some subtask depends on, a cycle) is left for the checks in ./plan.ts,
 * which send it back to the model. Pure, so the planner workflow can run it and replay it.
 *
 * The kinds of breakage are the ones weak models are known for (SmolLM2-135M on llama.cpp, and reports of other
 * agent planners): JSON in a code fence or inside prose, trailing commas, single-quoted strings, a bare list instead
 * of `{"subtasks": [...]}`, extra or snake_case fields, a string where a list belongs, numbers as strings, duplicate
 * ids, a tool listed twice, `"tools": []`, and budgets too small to do anything.
 */
import { MIN_SUBTASK_SECONDS, MIN_SUBTASK_STEPS, MIN_SUBTASK_TOKENS, type Subtask } from '../../common/types';

/** The JSON text read out of a reply, with what had to be fixed to read it, or why it could not be read. */
export type ReadJson = { ok: true; json: unknown; repairs: string[] } | { ok: false; error: string };

type Quote = '"' | "'";

/** Whether only whitespace stands between `from` and a closing bracket. */
function closesNext(text: string, from: number): boolean {
  const closing = /\s*[}\]]/y;
  closing.lastIndex = from;
  return closing.test(text);
}

/**
 * Rewrites single-quoted strings as JSON strings and drops trailing commas, outside and inside nothing else: the text
 * of double-quoted strings is never touched. Returns how many of each it fixed.
 */
function relaxJson(text: string): { text: string; singleQuoted: number; trailingCommas: number } {
  let out = '';
  let quote: Quote | null = null;
  let singleQuoted = 0;
  let trailingCommas = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') {
        const next = text[i + 1] ?? '';
        out += quote === "'" && next === "'" ? "'" : c + next;
        i++;
      } else if (c === quote) {
        out += '"';
        quote = null;
      } else out += quote === "'" && c === '"' ? '\\"' : c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      if (c === "'") singleQuoted++;
      out += '"';
    } else if (c === ',' && closesNext(text, i + 1)) trailingCommas++;
    else out += c;
  }
  return { text: out, singleQuoted, trailingCommas };
}

/** The first balanced `{...}` or `[...]` of `text` (string-aware) and where it ends, or null. */
function balancedSpan(text: string, from: number): { start: number; end: number } | null {
  const start = text.slice(from).search(/[{[]/);
  if (start < 0) return null;
  let depth = 0;
  let quote: Quote | null = null;
  for (let i = from + start; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return { start: from + start, end: i + 1 };
    }
  }
  return null;
}

function tryParse(text: string): { ok: true; json: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, json: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Reads the JSON of a reply: as it is, or out of a code fence or prose, with trailing commas and single quotes fixed. */
export function readJson(content: string | null): ReadJson {
  let text = (content ?? '').trim();
  if (text === '') return { ok: false, error: 'the reply is empty; send the plan as JSON' };
  const asIs = tryParse(text);
  if (asIs.ok) return { ok: true, json: asIs.json, repairs: [] };
  const repairs: string[] = [];
  const fences = [...text.matchAll(/```[A-Za-z0-9]*[ \t]*\n?([\s\S]*?)```/g)];
  if (fences.length > 1) {
    return { ok: false, error: `the reply holds ${fences.length} code blocks; send one plan, as JSON only` };
  }
  if (fences.length === 1) {
    if (text.replace(fences[0][0], '').trim() !== '') repairs.push('prose around the JSON was dropped');
    text = fences[0][1].trim();
    repairs.push('the JSON was inside a ``` code fence');
  }
  const span = balancedSpan(text, 0);
  if (!span) return { ok: false, error: `the reply is not JSON: ${JSON.stringify(text.slice(0, 200))}` };
  if (balancedSpan(text, span.end)) {
    return { ok: false, error: 'the reply holds more than one JSON value; send one plan, as JSON only' };
  }
  if (text.slice(0, span.start).trim() !== '' || text.slice(span.end).trim() !== '') {
    if (!repairs.includes('prose around the JSON was dropped')) repairs.push('prose around the JSON was dropped');
  }
  text = text.slice(span.start, span.end);
  const relaxed = relaxJson(text);
  const parsed = tryParse(relaxed.text);
  if (!parsed.ok) {
    return { ok: false, error: `the reply is not JSON (${parsed.error}): ${JSON.stringify(text.slice(0, 200))}` };
  }
  if (relaxed.trailingCommas) repairs.push(`${relaxed.trailingCommas} trailing comma(s) removed`);
  if (relaxed.singleQuoted) repairs.push(`${relaxed.singleQuoted} single-quoted string(s) read as JSON strings`);
  return { ok: true, json: parsed.json, repairs };
}

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

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

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
  if (!isRecord(budget)) return budget;
  const out = knownFields(budget, Object.keys(BUDGET_FLOORS), `the budget of ${where}`, repairs);
  for (const [field, floor] of Object.entries(BUDGET_FLOORS)) {
    const value = numberOf(out[field]);
    if (value === null) {
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
  if (!isRecord(raw)) return raw;
  const where = `subtask ${typeof raw.id === 'string' || typeof raw.id === 'number' ? `"${raw.id}"` : index + 1}`;
  const subtask = knownFields(raw, SUBTASK_FIELDS, where, repairs);
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
    const tools = listOf(subtask.tools, 'tools', where, repairs);
    if (Array.isArray(tools) && tools.length === 0) repairs.push(`tools of ${where} was []: all tools are offered`);
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
    } else if (isRecord(subtask.checks)) {
      repairs.push(`checks of ${where} was one check, not a list; read as a list of it`);
      subtask.checks = [subtask.checks];
    }
  }
  return subtask;
}

/** Repairs the shape of a parsed draft (before the schema check); returns the repaired value and what was repaired. */
export function repairShape(json: unknown): { value: unknown; repairs: string[] } {
  const repairs: string[] = [];
  let plan = json;
  if (Array.isArray(plan)) {
    repairs.push('a bare list of subtasks was read as {"subtasks": [...]}');
    plan = { subtasks: plan };
  }
  if (!isRecord(plan)) return { value: plan, repairs };
  const known = knownFields(plan, ['subtasks'], 'the plan', repairs);
  if (Array.isArray(known.subtasks)) {
    known.subtasks = known.subtasks.map((subtask, index) => repairSubtask(subtask, index, repairs));
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
