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
 * - Qwen 2.5's own slips (tandem's issue 25, on llama.cpp): the call object in doubled braces, `{{"name": ...}}}`, as
 *   templates that escape braces show it, tagged or bare; the body with only its closing `</tool_call>` (the opening
 *   tag is a special token some servers drop); and Qwen-Agent's `✿FUNCTION✿: NAME` / `✿ARGS✿: {...}` form, which
 *   Qwen2 and Qwen2.5 were trained on (QwenLM/Qwen-Agent).
 * - Qwen3-Coder XML: `<tool_call><function=NAME><parameter=KEY>value</parameter></function></tool_call>`.
 * - Llama 3.1: `<function=NAME>{...}</function>`.
 * - Mistral: `[TOOL_CALLS][{"name": ..., "arguments": {...}}]` (v3 tokenizer) and `[TOOL_CALLS]NAME[ARGS]{...}` or
 *   `[TOOL_CALLS]NAME[CALL_ID]id[ARGS]{...}` (v11+).
 * - Llama 3.x: `<|python_tag|>{"name": ..., "parameters": {...}}` and the bare JSON object with `parameters`.
 * - functools (Phi-4-mini, FireFunction v2): `functools[{"name": ..., "arguments": {...}}]`.
 * - DeepSeek V3/R1: `<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{...}\n```<｜tool▁call▁end｜>`.
 * - MiniMax M2 and Claude-style XML: `<invoke name="NAME"><parameter name="KEY">value</parameter></invoke>`, in a
 *   `<minimax:tool_call>`, `<function_calls>` or `<tool_call>` wrapper (earendil-works/pi#368, zeroclaw#1155).
 * - GLM-4.5: `<tool_call>NAME<arg_key>KEY</arg_key><arg_value>value</arg_value></tool_call>`.
 * - The Hermes JSON body in other tags: `<function_call>`, `<tool_calls>`, `<function_calls>`; Granite's
 *   `<|tool_call|>[...]`.
 * - gpt-oss (harmony) leaking through a server without its parser: `<|channel|>commentary to=functions.NAME
 *   <|constrain|>json<|message|>{...}<|call|>` (kekzl/imp#1719, ggml-org/llama.cpp#15158).
 * - A fenced block (```json, ```tool_call, ```function_call) holding `{"name": ..., "arguments": ...}`, and the whole
 *   reply being such an object or an array of them (Ollama with qwen3, ollama/ollama#11185; gemini-web2api#96). These
 *   two unmarked forms count only when the name is one of the offered tools, so a JSON answer is never mistaken for a
 *   call.
 * Any other text that carries a tool-call marker (FunctionGemma's `<start_function_call>`, a form above too mangled to
 * recognise) becomes a problem too: a reply that tried to call a tool is never taken as the answer.
 */
import { canonicalJson } from '../../common/canonical-json';
import { sliceChars } from '../../common/limits';

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
  /** The calls repeat a call the model was shown in a tool output or the goal: a quotation, read as text. */
  quoted?: boolean;
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

/**
 * Several JSON values written one after another (`{...} {...}`), as Ollama models do; undefined if not that. A value in
 * doubled braces (`{{"name": ...}}`, Qwen 2.5 copying an escaped template) is read without the extra pair.
 */
function parseJsonSequence(text: string): unknown[] | undefined {
  const values = parseJsonValues(text);
  if (values) return values;
  const doubled = /^\s*\{\s*(\{[\s\S]*\})\s*\}\s*$/.exec(text);
  return doubled ? parseJsonValues(doubled[1]) : undefined;
}

function parseJsonValues(text: string): unknown[] | undefined {
  const values: unknown[] = [];
  let rest = text.trim();
  while (rest !== '') {
    const end = balancedEnd(rest, 0);
    if (end < 0) return undefined;
    const parsed = parseJson(rest.slice(0, end));
    if (!parsed.ok) return undefined;
    values.push(parsed.value);
    rest = rest.slice(end).replace(/^[\s,;]+/, '');
  }
  return values;
}

/** Where the JSON object or list that opens at `from` closes (just past it), or -1 when it never does. */
function balancedEnd(text: string, from: number): number {
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
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

/**
 * A value written between XML tags: text, as written, unless it is a JSON object or list. `42` stays `"42"`: the text
 * forms carry no types, and a tool that takes text (a file's content, an expression) must get text.
 */
function xmlValue(text: string): unknown {
  if (!/^[[{]/.test(text)) return text;
  const parsed = parseJson(text);
  return parsed.ok ? parsed.value : text;
}

/** `<parameter=KEY>value</parameter>` pairs of the Qwen3-Coder form. */
function xmlParameters(body: string): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const m of body.matchAll(/<parameter=([^>\s]+)>\s*([\s\S]*?)\s*<\/parameter>/g)) args[m[1]] = xmlValue(m[2]);
  return args;
}

/** `<invoke name="NAME"><parameter name="KEY">value</parameter></invoke>`, whatever wraps it (MiniMax, Claude-style). */
function invokeXml(text: string): InTextResult | undefined {
  const pattern = /<invoke\s+name=["']([^"']+)["'][^>]*>([\s\S]*?)(?:<\/invoke>|$)/g;
  const calls: TextToolCall[] = [];
  for (const m of text.matchAll(pattern)) {
    const args: Record<string, unknown> = {};
    for (const p of m[2].matchAll(/<parameter\s+name=["']([^"']+)["'][^>]*>([\s\S]*?)<\/parameter>/g)) {
      args[p[1]] = xmlValue(p[2].trim());
    }
    calls.push({ name: m[1].trim(), arguments: args });
  }
  if (calls.length === 0) return undefined;
  const rest = text
    .replace(/<([\w:]*tool_call|function_calls)>[\s\S]*?(?:<\/\1>|$)/g, '')
    .replace(pattern, '')
    .trim();
  return { calls, rest, form: '<invoke name=...>' };
}

/** GLM-4.5's body: `NAME<arg_key>KEY</arg_key><arg_value>value</arg_value>...`. */
function glmCall(body: string): TextToolCall | undefined {
  const at = body.indexOf('<arg_key>');
  if (at < 0) return undefined;
  const args: Record<string, unknown> = {};
  for (const m of body.matchAll(/<arg_key>([\s\S]*?)<\/arg_key>\s*<arg_value>([\s\S]*?)<\/arg_value>/g)) {
    args[m[1].trim()] = xmlValue(m[2].trim());
  }
  return { name: body.slice(0, at).trim(), arguments: args };
}

/** The tags that wrap a Hermes-style body; `<tool_call>` is the one Hermes and Qwen use. */
const CALL_TAGS = ['tool_call', 'tool_calls', 'function_call', 'function_calls'];

function hermes(text: string): InTextResult | undefined {
  const tag = CALL_TAGS.find((name) => text.includes(`<${name}>`));
  // Only the closing tag: the body is what comes before it, from the first `{` (Qwen 2.5 whose opening tag was lost).
  const orphan = tag ? -1 : text.indexOf('</tool_call>');
  if (orphan >= 0) {
    const start = text.lastIndexOf('\n{', orphan) + 1 || text.indexOf('{');
    if (start >= 0 && start < orphan) return hermes(`${text.slice(0, start)}<tool_call>${text.slice(start)}`);
  }
  if (!tag) return undefined;
  const { bodies, rest } = blocks(text, new RegExp(`<${tag}>`, 'g'), `</${tag}>`);
  const form = `<${tag}>`;
  const calls: TextToolCall[] = [];
  for (const body of bodies) {
    const fn = /<function=([^>\s]+)>([\s\S]*?)(?:<\/function>|$)/.exec(body);
    if (fn) {
      calls.push({ name: fn[1].trim(), arguments: xmlParameters(fn[2]) });
      continue;
    }
    const glm = glmCall(body);
    if (glm) {
      calls.push(glm);
      continue;
    }
    const values = parseJsonSequence(body.replace(/^\s*```(?:json)?|```\s*$/g, ''));
    const found = values?.flatMap((value) => callsOf(value) ?? []);
    if (!found || found.length === 0) {
      return {
        calls: [],
        rest: text,
        form,
        problem: problemFor(form, `${JSON.stringify(sliceChars(body.trim(), 200))} is not {"name", "arguments"}`),
      };
    }
    calls.push(...found);
  }
  return { calls, rest, form };
}

/** Qwen-Agent's form: `✿FUNCTION✿: NAME` then `✿ARGS✿: {...}`, each call ended by the next marker or the text. */
function qwenAgent(text: string): InTextResult | undefined {
  const pattern = /✿FUNCTION✿:\s*([^\n]+?)\s*\n\s*✿ARGS✿:\s*([\s\S]*?)(?=✿(?:FUNCTION|RESULT|RETURN)✿|$)/g;
  const calls: TextToolCall[] = [];
  for (const m of text.matchAll(pattern)) {
    const values = parseJsonSequence(m[2].trim() || '{}');
    if (!values || values.length !== 1) {
      return {
        calls: [],
        rest: text,
        form: '✿FUNCTION✿',
        problem: problemFor('✿FUNCTION✿', `${JSON.stringify(sliceChars(m[2].trim(), 200))} is not a JSON object`),
      };
    }
    calls.push({ name: m[1], arguments: values[0] });
  }
  if (calls.length === 0) return undefined;
  return { calls, rest: text.slice(0, text.indexOf('✿FUNCTION✿')).trim(), form: '✿FUNCTION✿' };
}

/** gpt-oss's harmony header and message: `to=functions.NAME [<|constrain|>]json<|message|>{...}[<|call|>]`. */
function harmony(text: string): InTextResult | undefined {
  const pattern =
    /to=(?:functions\.)?([\w.-]+)[^<]*(?:<\|constrain\|>\s*\w*\s*)?<\|message\|>([\s\S]*?)(?:<\|call\|>|<\|end\|>|$)/g;
  const calls: TextToolCall[] = [];
  for (const m of text.matchAll(pattern)) {
    const parsed = parseJson(m[2].trim() || '{}');
    if (!parsed.ok) {
      return { calls: [], rest: text, form: 'harmony', problem: problemFor('to=functions.NAME', parsed.error) };
    }
    calls.push({ name: m[1], arguments: parsed.value });
  }
  if (calls.length === 0) return undefined;
  const rest = text
    .replace(/(?:<\|start\|>assistant)?<\|channel\|>commentary[\s\S]*$/, '')
    .replace(/<\|channel\|>\w+<\|message\|>/g, '')
    .replace(/<\|end\|>/g, '')
    .trim();
  return { calls, rest, form: 'harmony' };
}

/** Markers of a tool call that no form above could read: the reply tried to call a tool, so it is not an answer. */
const CALL_MARKERS =
  /<\/?(?:[\w]+:)?(?:tool_calls?|function_calls?)>|<invoke\s|<\|tool_call(?:_start)?\|>|<start_function_call>|to=functions\.|<\|python_tag\|>|\[TOOL_CALLS\]|✿FUNCTION✿/;

function unreadMarker(text: string): InTextResult | undefined {
  const marker = CALL_MARKERS.exec(text);
  if (!marker) return undefined;
  return {
    calls: [],
    rest: text,
    form: marker[0],
    problem: problemFor(marker[0], 'its form is not one tandem can read'),
  };
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
          problem: problemFor('[TOOL_CALLS]', `${JSON.stringify(sliceChars(part, 200))} is not NAME[ARGS]{...}`),
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
      problem: problemFor(
        '[TOOL_CALLS]',
        `${JSON.stringify(sliceChars(after.trim(), 200))} is not a JSON list of calls`,
      ),
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
      problem: problemFor(marker, `${JSON.stringify(sliceChars(body, 200))} is not {"name", "arguments"}`),
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

/** The forms with a marker, most specific first (`<invoke>` before the `<tool_call>` that may wrap it). */
function marked(text: string): InTextResult | undefined {
  return (
    invokeXml(text) ??
    hermes(text) ??
    mistral(text) ??
    deepseek(text) ??
    harmony(text) ??
    qwenAgent(text) ??
    prefixed(text, '<|python_tag|>') ??
    prefixed(text, '<|tool_call|>') ??
    prefixed(text, 'functools') ??
    llamaFunctionTag(text)
  );
}

/**
 * Tool-call markup of every form above, as it may appear in text the model is shown but did not write (a fetched page,
 * a file, an MCP result). {@link neutralizeToolCallMarkup} defuses it there.
 */
const MARKUP =
  /<\/?(?:[\w]+:)?(?:tool_calls?|function_calls?)>|<invoke\b|<\/?function=?|<\|(?:tool_call(?:_start|_end)?|python_tag|message|constrain|call|channel)\|>|<\/?start_function_call>|<｜tool▁|\[TOOL_CALLS\]|\[ARGS\]|functools\s*\[|✿(?:FUNCTION|ARGS)✿/g;
/** Each markup character and the look-alike that replaces it: still readable, no longer a marker. */
const DEFUSED: Record<string, string> = { '<': '‹', '>': '›', '[': '⁅', ']': '⁆', '✿': '❀' };
const RESTORED: Record<string, string> = Object.fromEntries(Object.entries(DEFUSED).map(([raw, soft]) => [soft, raw]));

/**
 * Tool output with its tool-call markup defused: `<tool_call>` becomes `‹tool_call›`, `[TOOL_CALLS]` `⁅TOOL_CALLS⁆`,
 * and so on, so neither tandem's parser nor a server's own tool parser reads a call the model merely quotes. Only the
 * markers change; the text around them, JSON included, is kept as it was.
 */
export function neutralizeToolCallMarkup(text: string): string {
  return text.replace(MARKUP, (marker) => marker.replace(/[<>[\]✿]/g, (ch) => DEFUSED[ch]));
}

/** A call's identity for the quotation check: its name and its arguments as canonical JSON. */
function signature(call: TextToolCall): string {
  let args = call.arguments;
  if (typeof args === 'string') {
    const parsed = parseJson(args);
    if (parsed.ok) args = parsed.value;
  }
  return `${call.name.trim().toLowerCase()}\u0000${canonicalJson(args)}`;
}

/**
 * Every call written anywhere in `sources` (tool outputs, the goal): marked forms, with defused markup read as the
 * markup it was, and any JSON object shaped as a call. A reply's call with one of these signatures is a quotation.
 */
export function quotedCallSignatures(sources: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const source of sources) {
    const text = source.replace(/[‹›⁅⁆❀]/g, (ch) => RESTORED[ch]);
    for (const call of marked(text)?.calls ?? []) found.add(signature(call));
    for (const start of text.matchAll(
      /\{\s*"(?:name|function|tool|tool_name|type|arguments|parameters|args|input)"\s*:/g,
    )) {
      const end = balancedEnd(text, start.index);
      const parsed = end < 0 ? undefined : parseJson(text.slice(start.index, end));
      if (parsed?.ok) for (const call of callsOf(parsed.value) ?? []) found.add(signature(call));
    }
  }
  return found;
}

/**
 * Finds tool calls written into `text`. Returns undefined when there are none (the text is an ordinary answer).
 * `offered` are the tool names of the request; the unmarked forms need one of them to count. `markedOnly` reads only
 * forms with a marker, and never reports a problem: for text that was not meant as the answer (reasoning).
 * `quoted` are the signatures of calls the model was shown ({@link quotedCallSignatures}): a reply that repeats one
 * quotes it, so none of its calls runs and it is read as text (`quoted: true`).
 */
export function parseInTextToolCalls(
  text: string,
  offered: readonly string[],
  markedOnly = false,
  quoted?: () => ReadonlySet<string>,
): InTextResult | undefined {
  if (offered.length === 0 || text.trim() === '') return undefined;
  const found = markedOnly ? marked(text) : (marked(text) ?? unmarked(text, offered) ?? unreadMarker(text));
  if (markedOnly && (!found || found.problem || found.calls.length === 0)) return undefined;
  if (found && found.calls.length > 0 && quoted) {
    const signatures = quoted();
    if (found.calls.some((call) => signatures.has(signature(call)))) {
      return { calls: [], rest: text, form: found.form, quoted: true };
    }
  }
  return found;
}
