/**
 * JSON as weak models write it, read without guessing: out of a code fence or prose, with trailing commas and
 * single-quoted strings fixed, and with what had to be fixed said. One reader for every place a model's JSON is read
 * (plans and verdicts in the planner workflow, tool-call arguments at the model boundary), so they all forgive the
 * same slips. Pure and sandbox-safe.
 */
import { sliceChars } from './limits';

/** A JSON object (not an array, not null): the shape of plans, verdicts, arguments and replies as models send them. */
export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON read out of a reply, with what had to be fixed to read it, or why it could not be read. */
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
export function relaxJson(text: string): { text: string; singleQuoted: number; trailingCommas: number } {
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

/** The first balanced `{...}` or `[...]` of `text` from `from` (string-aware) and where it ends, or null. */
export function balancedSpan(text: string, from: number): { start: number; end: number } | null {
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

/** JSON.parse that says why instead of throwing. */
export function tryParse(text: string): { ok: true; json: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, json: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** One balanced JSON value's text, relaxed and parsed, with what relaxing fixed. */
export function parseRelaxed(text: string): ReadJson {
  const relaxed = relaxJson(text);
  const parsed = tryParse(relaxed.text);
  if (!parsed.ok) return { ok: false, error: `not JSON (${parsed.error}): ${JSON.stringify(sliceChars(text, 200))}` };
  const repairs: string[] = [];
  if (relaxed.trailingCommas) repairs.push(`${relaxed.trailingCommas} trailing comma(s) removed`);
  if (relaxed.singleQuoted) repairs.push(`${relaxed.singleQuoted} single-quoted string(s) read as JSON strings`);
  return { ok: true, json: parsed.json, repairs };
}

/** The body of the one ``` code fence of `text`, and whether prose stood around it; undefined when there is none. */
export function fencedBody(text: string): { body: string; prose: boolean } | { count: number } | undefined {
  const fences = [...text.matchAll(/```[A-Za-z0-9_]*[ \t]*\n?([\s\S]*?)```/g)];
  if (fences.length === 0) return undefined;
  if (fences.length > 1) return { count: fences.length };
  return { body: fences[0][1].trim(), prose: text.replace(fences[0][0], '').trim() !== '' };
}

/**
 * Reads the JSON of a reply: as it is, or out of a code fence or prose, with trailing commas and single quotes fixed.
 * `what` names what the reply should hold ("plan", "verdict") in the errors that go back to the model.
 */
export function readJson(content: string | null, what: string): ReadJson {
  let text = (content ?? '').trim();
  if (text === '') return { ok: false, error: `the reply is empty; send the ${what} as JSON` };
  const asIs = tryParse(text);
  if (asIs.ok) return { ok: true, json: asIs.json, repairs: [] };
  const repairs: string[] = [];
  const fence = fencedBody(text);
  if (fence && 'count' in fence) {
    return { ok: false, error: `the reply holds ${fence.count} code blocks; send one ${what}, as JSON only` };
  }
  if (fence) {
    if (fence.prose) repairs.push('prose around the JSON was dropped');
    text = fence.body;
    repairs.push('the JSON was inside a ``` code fence');
  }
  const span = balancedSpan(text, 0);
  if (!span) return { ok: false, error: `the reply is not JSON: ${JSON.stringify(sliceChars(text, 200))}` };
  if (balancedSpan(text, span.end)) {
    return { ok: false, error: `the reply holds more than one JSON value; send one ${what}, as JSON only` };
  }
  if (text.slice(0, span.start).trim() !== '' || text.slice(span.end).trim() !== '') {
    if (!repairs.includes('prose around the JSON was dropped')) repairs.push('prose around the JSON was dropped');
  }
  const parsed = parseRelaxed(text.slice(span.start, span.end));
  if (!parsed.ok) return { ok: false, error: `the reply is ${parsed.error}` };
  return { ok: true, json: parsed.json, repairs: [...repairs, ...parsed.repairs] };
}
