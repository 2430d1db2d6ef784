/**
 * Tool calls a model wrote into the text of its reply instead of `tool_calls`. Servers parse these only when they know
 * the model's format (vLLM needs `--tool-call-parser`, llama.cpp `--jinja` and a template it recognises, Ollama a
 * template with tools); otherwise the raw text arrives as `content`. Accepting it as a final answer would end a subtask
 * with a tool call nobody ran, so each known form is parsed into real calls, and a form recognised but not parseable
 * becomes a problem the model is told about.
 *
 * Forms, with where they were seen:
 * - Hermes / Qwen 2.5 / Qwen 3: `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, several in a row, the last
 *   closing tag sometimes missing; some fine-tunes write `args` or `parameters` (ollama/ollama#18357, vllm#17161).
 * - Qwen3-Coder XML: `<tool_call><function=NAME><parameter=KEY>value</parameter></function></tool_call>`.
 * - Llama 3.1: `<function=NAME>{...}</function>`.
 * - Mistral: `[TOOL_CALLS][{"name": ..., "arguments": {...}}]` (v3 tokenizer) and `[TOOL_CALLS]NAME[ARGS]{...}` or
 *   `[TOOL_CALLS]NAME[CALL_ID]id[ARGS]{...}` (v11+).
 * - Llama 3.x: `<|python_tag|>{"name": ..., "parameters": {...}}` and the bare JSON object with `parameters`.
 * - functools (Phi-4-mini, FireFunction v2): `functools[{"name": ..., "arguments": {...}}]`.
 * - DeepSeek V3/R1: `<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{...}\n```<｜tool▁call▁end｜>`.
 * - A fenced block (```json, ```tool_call, ```function_call) holding `{"name": ..., "arguments": ...}`, and the whole
 *   reply being such an object or an array of them (Ollama with qwen3, ollama/ollama#11185; gemini-web2api#96). These
 *   two unmarked forms count only when the name is one of the offered tools, so a JSON answer is never mistaken for a
 *   call.
 */

/** A call recovered from text; `arguments` is whatever the text held (an object, a string, ...). */
export interface TextToolCall {
  name: string;
  arguments: unknown;
  id?: string;
}

export interface InTextResult {
  calls: TextToolCall[];
  /** The reply's text without the calls. */
  rest: string;
  /** Set when a tool-call marker was found but could not be parsed: what the model is told. */
  problem?: string;
  /** Which form was found, for logs and tests. */
  form?: string;
}

const NAME_KEYS = ['name', 'function', 'tool', 'tool_name'] as const;
const ARG_KEYS = ['arguments', 'parameters', 'args', 'input'] as const;

/** `{"name": ..., "arguments": ...}` in any of the spellings models use, or undefined. */
function asCall(value: unknown): TextToolCall | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  // OpenAI's own shape written as text: {"type":"function","function":{"name":...,"arguments":...}}
  if (typeof record.function === 'object' && record.function !== null) return asCall(record.function);
  const nameKey = NAME_KEYS.find((key) => typeof record[key] === 'string' && (record[key] as string).trim() !== '');
  if (!nameKey) return undefined;
  const argKey = ARG_KEYS.find((key) => key in record);
  return {
    name: (record[nameKey] as string).trim(),
    arguments: argKey ? record[argKey] : {},
    ...(typeof record.id === 'string' ? { id: record.id } : {}),
  };
}

function callsOf(value: unknown): TextToolCall[] | undefined {
  const list = Array.isArray(value) ? value : [value];
  const calls = list.map(asCall);
  return calls.length > 0 && calls.every((call) => call !== undefined) ? (calls as TextToolCall[]) : undefined;
}

/** JSON.parse that says why instead of throwing. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Several JSON values written one after another (`{...} {...}`), as Ollama models do; undefined if not that. */
function parseJsonSequence(text: string): unknown[] | undefined {
  const values: unknown[] = [];
  let rest = text.trim();
  while (rest !== '') {
    let end = -1;
    let depth = 0;
    let inString = false;
    for (let i = 0; i < rest.length; i++) {
      const ch = rest[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) {
          end = i + 1;
          break;
        }
      }
    }
    if (end < 0) return undefined;
    const parsed = parseJson(rest.slice(0, end));
    if (!parsed.ok) return undefined;
    values.push(parsed.value);
    rest = rest.slice(end).replace(/^[\s,;]+/, '');
  }
  return values;
}

function problemFor(form: string, detail: string): string {
  return (
    `your reply contains a tool call written as text (${form}) that could not be read: ${detail}. ` +
    'Call tools through the tool-calling interface with a JSON object as arguments, or answer in plain text'
  );
}

function blocks(text: string, open: RegExp, close: string): { bodies: string[]; rest: string } {
  const bodies: string[] = [];
  let rest = '';
  let at = 0;
  for (;;) {
    open.lastIndex = at;
    const start = open.exec(text);
    if (!start) break;
    rest += text.slice(at, start.index);
    const bodyStart = start.index + start[0].length;
    const end = text.indexOf(close, bodyStart);
    bodies.push(text.slice(bodyStart, end < 0 ? text.length : end));
    at = end < 0 ? text.length : end + close.length;
  }
  return { bodies, rest: rest + text.slice(at) };
}

/** `<parameter=KEY>value</parameter>` pairs of the Qwen3-Coder form; values that are JSON are parsed. */
function xmlParameters(body: string): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const m of body.matchAll(/<parameter=([^>\s]+)>\s*([\s\S]*?)\s*<\/parameter>/g)) {
    const parsed = parseJson(m[2]);
    args[m[1]] = parsed.ok && typeof parsed.value !== 'string' ? parsed.value : m[2];
  }
  return args;
}

function hermes(text: string): InTextResult | undefined {
  if (!/<tool_call>/.test(text)) return undefined;
  const { bodies, rest } = blocks(text, /<tool_call>/g, '</tool_call>');
  const calls: TextToolCall[] = [];
  for (const body of bodies) {
    const fn = /<function=([^>\s]+)>([\s\S]*?)(?:<\/function>|$)/.exec(body);
    if (fn) {
      calls.push({ name: fn[1].trim(), arguments: xmlParameters(fn[2]) });
      continue;
    }
    const values = parseJsonSequence(body.replace(/^\s*```(?:json)?|```\s*$/g, ''));
    const found = values?.flatMap((value) => callsOf(value) ?? []);
    if (!found || found.length === 0) {
      return {
        calls: [],
        rest: text,
        form: '<tool_call>',
        problem: problemFor('<tool_call>', `${JSON.stringify(body.trim().slice(0, 200))} is not {"name", "arguments"}`),
      };
    }
    calls.push(...found);
  }
  return { calls, rest, form: '<tool_call>' };
}

function llamaFunctionTag(text: string): InTextResult | undefined {
  if (!/<function=[^>\s]+>/.test(text)) return undefined;
  const calls: TextToolCall[] = [];
  let problem: string | undefined;
  const rest = text.replace(/<function=([^>\s]+)>([\s\S]*?)(?:<\/function>|$)/g, (_all, name: string, body: string) => {
    const parsed = parseJson(body.trim() || '{}');
    if (parsed.ok) calls.push({ name: name.trim(), arguments: parsed.value });
    else if (/<parameter=/.test(body)) calls.push({ name: name.trim(), arguments: xmlParameters(body) });
    else problem ??= problemFor('<function=...>', parsed.error);
    return '';
  });
  return problem ? { calls: [], rest: text, form: '<function=...>', problem } : { calls, rest, form: '<function=...>' };
}

function mistral(text: string): InTextResult | undefined {
  const at = text.indexOf('[TOOL_CALLS]');
  if (at < 0) return undefined;
  const before = text.slice(0, at);
  const after = text.slice(at + '[TOOL_CALLS]'.length);
  if (after.includes('[ARGS]')) {
    const calls: TextToolCall[] = [];
    for (const part of after.split('[TOOL_CALLS]')) {
      const m = /^\s*([^[\s]+)\s*(?:\[CALL_ID\]\s*([^[\s]+)\s*)?\[ARGS\]([\s\S]*)$/.exec(part);
      const values = m ? parseJsonSequence(m[3]) : undefined;
      if (!m || !values || values.length === 0) {
        return {
          calls: [],
          rest: text,
          form: '[TOOL_CALLS]',
          problem: problemFor('[TOOL_CALLS]', `${JSON.stringify(part.slice(0, 200))} is not NAME[ARGS]{...}`),
        };
      }
      calls.push({ name: m[1], arguments: values[0], ...(m[2] ? { id: m[2] } : {}) });
    }
    return { calls, rest: before, form: '[TOOL_CALLS]' };
  }
  const values = parseJsonSequence(after);
  const calls = values?.flatMap((value) => callsOf(value) ?? []);
  if (!calls || calls.length === 0) {
    return {
      calls: [],
      rest: text,
      form: '[TOOL_CALLS]',
      problem: problemFor('[TOOL_CALLS]', `${JSON.stringify(after.trim().slice(0, 200))} is not a JSON list of calls`),
    };
  }
  return { calls, rest: before, form: '[TOOL_CALLS]' };
}

/** A marker followed by JSON: `<|python_tag|>{...}` and `functools[...]`. */
function prefixed(text: string, marker: string): InTextResult | undefined {
  // `functools` is also a Python module a prose answer may name: only `functools[` counts.
  const at = marker === 'functools' ? text.search(/functools\s*\[/) : text.indexOf(marker);
  if (at < 0) return undefined;
  const body = text
    .slice(at + marker.length)
    .replace(/<\|eom_id\|>|<\|eot_id\|>/g, '')
    .trim();
  const jsonBody = marker === 'functools' ? body : body.split(/;\s*(?=\{)/).join(' ');
  const values = parseJsonSequence(jsonBody);
  const calls = values?.flatMap((value) => callsOf(value) ?? []);
  if (!calls || calls.length === 0) {
    return {
      calls: [],
      rest: text,
      form: marker,
      problem: problemFor(marker, `${JSON.stringify(body.slice(0, 200))} is not {"name", "arguments"}`),
    };
  }
  return { calls, rest: text.slice(0, at), form: marker };
}

function deepseek(text: string): InTextResult | undefined {
  if (!text.includes('<｜tool▁call▁begin｜>')) return undefined;
  const calls: TextToolCall[] = [];
  let problem: string | undefined;
  const pattern = /<｜tool▁call▁begin｜>\s*\w*\s*<｜tool▁sep｜>\s*([^\n]+)\n([\s\S]*?)<｜tool▁call▁end｜>/g;
  for (const m of text.matchAll(pattern)) {
    const json = m[2].replace(/^\s*```(?:json)?\s*|\s*```\s*$/g, '');
    const parsed = parseJson(json.trim() || '{}');
    if (parsed.ok) calls.push({ name: m[1].trim(), arguments: parsed.value });
    else problem ??= problemFor('<｜tool▁call▁begin｜>', parsed.error);
  }
  if (problem || calls.length === 0) {
    return { calls: [], rest: text, form: 'deepseek', problem: problem ?? problemFor('deepseek', 'no call found') };
  }
  const rest = text.replace(/<｜tool▁calls▁begin｜>[\s\S]*(?:<｜tool▁calls▁end｜>|$)/, '');
  return { calls, rest, form: 'deepseek' };
}

/** Unmarked forms: counted only when every name is an offered tool. */
function unmarked(text: string, offered: readonly string[]): InTextResult | undefined {
  const isOffered = (call: TextToolCall) => offered.some((name) => name.toLowerCase() === call.name.toLowerCase());
  const fence = /```(?:json|tool_call|tool_code|function_call)?\s*\n([\s\S]*?)```/g;
  const fenced: TextToolCall[] = [];
  const rest = text.replace(fence, (all, body: string) => {
    const values = parseJsonSequence(body);
    const calls = values?.flatMap((value) => callsOf(value) ?? []);
    if (calls && calls.length > 0 && calls.every(isOffered)) {
      fenced.push(...calls);
      return '';
    }
    return all;
  });
  if (fenced.length > 0) return { calls: fenced, rest, form: 'fenced JSON' };
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined;
  const values = parseJsonSequence(trimmed);
  const calls = values?.flatMap((value) => callsOf(value) ?? []);
  if (calls && calls.length > 0 && calls.length === values?.flat().length && calls.every(isOffered)) {
    return { calls, rest: '', form: 'bare JSON' };
  }
  return undefined;
}

/**
 * Finds tool calls written into `text`. Returns undefined when there are none (the text is an ordinary answer).
 * `offered` are the tool names of the request; the unmarked forms need one of them to count.
 */
export function parseInTextToolCalls(text: string, offered: readonly string[]): InTextResult | undefined {
  if (offered.length === 0 || text.trim() === '') return undefined;
  return (
    hermes(text) ??
    mistral(text) ??
    deepseek(text) ??
    prefixed(text, '<|python_tag|>') ??
    prefixed(text, 'functools') ??
    llamaFunctionTag(text) ??
    unmarked(text, offered)
  );
}
