/**
 * Tool-call arguments as a string of a JSON object, whatever a server or model sent: the next request must carry valid
 * JSON (OpenAI, llama.cpp and vLLM refuse anything else), and a tool must get an object. What one reading can repair is
 * repaired and said; what could mean two things becomes `invalid`, which the executor sends back to the model.
 *
 * Seen in the wild: an object instead of a string (llama.cpp), `""` for no arguments (vLLM), a double-encoded string,
 * a ```json fence with or without prose around it, `null`, trailing commas and single quotes (small models), an extra
 * closing brace or a leaked end tag after the object (qwen via langchain-qwq#30, `</tool_call>`, `<|im_end|>`), and the
 * same object twice or `{}` before it when a server sends whole arguments in more than one stream delta.
 */
import { balancedSpan, fencedBody, parseRelaxed, tryParse, isJsonObject } from '../../common/lenient-json';
import { sliceChars, snippet } from '../../common/limits';

export interface Arguments {
  json: string;
  invalid?: { raw: string; problem: string };
  repair?: string;
}

function kindOf(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
}

/** A parsed value as arguments: an object, `null` (no arguments), or a string holding an object (double-encoded). */
function fromValue(value: unknown, raw: string, repairs: string[]): Arguments {
  if (value === null) return { json: '{}', repair: [...repairs, 'null arguments sent as {}'].join('; ') };
  if (typeof value === 'string') {
    const inner = tryParse(value);
    if (inner.ok && isJsonObject(inner.json)) {
      return { json: JSON.stringify(inner.json), repair: [...repairs, 'double-encoded arguments decoded'].join('; ') };
    }
  }
  if (!isJsonObject(value))
    return { json: '{}', invalid: { raw, problem: `they are ${kindOf(value)}, not a JSON object` } };
  return repairs.length ? { json: JSON.stringify(value), repair: repairs.join('; ') } : { json: raw };
}

/**
 * Arguments that are not JSON as they stand: the JSON objects in them, read leniently. One object (or the same one
 * repeated, or `{}` beside it) is the arguments; different objects cannot be told apart and are invalid.
 */
function readLeniently(raw: string, text: string, error: string): Arguments {
  const repairs: string[] = [];
  const fence = fencedBody(text);
  if (fence && 'body' in fence) {
    text = fence.body;
    repairs.push(fence.prose ? 'prose and ``` fence around the arguments dropped' : 'fenced arguments unwrapped');
    const whole = tryParse(text);
    if (whole.ok) return fromValue(whole.json, raw, repairs);
  }
  const objects: Record<string, unknown>[] = [];
  let at = 0;
  let first = -1;
  for (let span = balancedSpan(text, 0); span; span = balancedSpan(text, at)) {
    const read = parseRelaxed(text.slice(span.start, span.end));
    if (!read.ok || !isJsonObject(read.json)) break;
    if (first < 0) first = span.start;
    for (const repair of read.repairs) if (!repairs.includes(repair)) repairs.push(repair);
    objects.push(read.json);
    at = span.end;
  }
  const invalid = (problem: string): Arguments => ({ json: '{}', invalid: { raw, problem } });
  if (objects.length === 0) return invalid(`they are not valid JSON (${error})`);
  const distinct = [...new Set(objects.filter((o) => Object.keys(o).length > 0).map((o) => JSON.stringify(o)))];
  if (distinct.length > 1) return invalid(`they hold ${distinct.length} different JSON objects; send one`);
  if (objects.length > 1) repairs.push(`${objects.length} JSON objects in a row read as one`);
  const around = `${text.slice(0, first)}${text.slice(at)}`.trim();
  if (around !== '') repairs.push(`text around the arguments' JSON dropped: ${JSON.stringify(sliceChars(around, 40))}`);
  return { json: distinct[0] ?? '{}', repair: repairs.join('; ') };
}

/** Arguments as a string of a JSON object, whatever the model sent. */
export function normalizeArguments(raw: unknown): Arguments {
  if (raw === undefined || raw === null) return { json: '{}', repair: 'missing arguments sent as {}' };
  if (isJsonObject(raw)) return { json: JSON.stringify(raw), repair: 'object arguments encoded as a JSON string' };
  if (typeof raw !== 'string') {
    return {
      json: '{}',
      invalid: { raw: snippet(raw, 2000), problem: `they are ${kindOf(raw)}, not a JSON object` },
    };
  }
  const text = raw.trim();
  if (text === '')
    return { json: '{}', repair: raw === '' ? 'empty arguments sent as {}' : 'blank arguments sent as {}' };
  const parsed = tryParse(text);
  if (!parsed.ok) return readLeniently(raw, text, parsed.error);
  return fromValue(parsed.json, raw, text === raw ? [] : ['padded arguments trimmed']);
}
