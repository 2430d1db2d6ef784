/**
 * Structured output (plans, verdicts) in the form each server accepts. `TANDEM_STRUCTURED_OUTPUT`:
 * - `json_schema`: `response_format: {type: 'json_schema', json_schema: {name, schema, strict: true}}` with the schema
 *   made strict-compatible (every property required, optional ones nullable, no additional properties), and the
 *   nulls the model then sends for optional fields removed again before anyone reads the reply;
 * - `json_object`: `response_format: {type: 'json_object'}` with the schema in the system message;
 * - `tool`: one forced tool call whose parameters are the schema; its arguments are the reply;
 * - `auto` (default): `json_schema`, then `json_object`, then `tool`, each time a server refuses the mode (400/422
 *   naming it). The mode that worked is remembered per endpoint and model for the life of the worker.
 * Every schema goes out bounded ({@link boundedSchema}), whatever the mode: a server may turn any of them into a grammar.
 */
import { isJsonObject } from '../../common/lenient-json';
import type { StructuredOutputMode } from '../../node/config';

export type ConcreteMode = Exclude<StructuredOutputMode, 'auto'>;
export const MODE_ORDER: readonly ConcreteMode[] = ['json_schema', 'json_object', 'tool'];

type Schema = Record<string, unknown>;

/** Longest string a structured reply may hold where its schema sets no bound (characters). */
export const STRUCTURED_STRING_MAX_CHARS = 4_000;
/** Most items an array of a structured reply may hold where its schema sets no bound. */
export const STRUCTURED_ARRAY_MAX_ITEMS = 24;
/** A quantifier with no upper bound (`+`, `*`, `{n,}`) outside an escape: the pattern admits strings of any length. */
const UNBOUNDED_QUANTIFIER = /(?<!\\)(?:[+*]|\{\d+,\})/;

/**
 * The schema with every string and array bounded, as a grammar-constrained server needs it: llama.cpp turns a
 * `json_schema` into a grammar the model cannot leave, and a string or array without an upper bound lets a small model
 * write until its output cap or the call's timeout (issue 25: a `<server>__<tool>` pattern with `+` gave endless tool
 * names). Strings get `maxLength` ({@link STRUCTURED_STRING_MAX_CHARS} where unset), arrays `maxItems`
 * ({@link STRUCTURED_ARRAY_MAX_ITEMS} where unset), and a `pattern` that admits unbounded strings is dropped: llama.cpp
 * obeys the pattern and ignores `maxLength` beside it. What the grammar no longer enforces, the caller's own
 * validation of the reply still does. Enums, consts and formats are bounded already and kept as they are.
 */
export function boundedSchema(schema: Schema): Schema {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (!isJsonObject(node)) return node;
    const out: Schema = {};
    for (const [key, value] of Object.entries(node)) {
      out[key] =
        key === 'properties' && isJsonObject(value)
          ? Object.fromEntries(Object.entries(value).map(([name, prop]) => [name, visit(prop)]))
          : key === 'enum' || key === 'const' || key === 'default'
            ? value
            : visit(value);
    }
    const types = Array.isArray(out.type) ? out.type : [out.type];
    if (types.includes('string') && out.enum === undefined && out.const === undefined && out.format === undefined) {
      if (typeof out.pattern === 'string' && UNBOUNDED_QUANTIFIER.test(out.pattern)) delete out.pattern;
      out.maxLength ??= STRUCTURED_STRING_MAX_CHARS;
    }
    if (types.includes('array')) out.maxItems ??= STRUCTURED_ARRAY_MAX_ITEMS;
    return out;
  };
  return visit(schema) as Schema;
}

/** The schema OpenAI's strict mode accepts, or undefined when it cannot be made so (free-form maps). */
export function strictSchema(schema: Schema): Schema | undefined {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (!isJsonObject(node)) return node;
    const out: Schema = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'default' || key === '$schema') continue;
      out[key] = key === 'properties' ? value : visit(value);
    }
    if (out.type === 'object' || isJsonObject(out.properties)) {
      const props = isJsonObject(out.properties) ? out.properties : {};
      if (
        isJsonObject(out.additionalProperties) ||
        (Object.keys(props).length === 0 && out.additionalProperties !== false)
      ) {
        throw new Error('free-form object');
      }
      const required = new Set(Array.isArray(out.required) ? (out.required as string[]) : []);
      const strictProps: Schema = {};
      for (const [name, prop] of Object.entries(props)) {
        const inner = visit(prop) as Schema;
        strictProps[name] = required.has(name) ? inner : nullable(inner);
      }
      out.properties = strictProps;
      out.required = Object.keys(strictProps);
      out.additionalProperties = false;
    }
    return out;
  };
  try {
    return visit(schema) as Schema;
  } catch {
    return undefined;
  }
}

function nullable(schema: Schema): Schema {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}

/**
 * Removes the `null`s strict mode made the model send for properties the original schema left optional, so the
 * reply validates against the original (zod) schema.
 */
export function dropStrictNulls(value: unknown, schema: Schema): unknown {
  if (Array.isArray(value)) {
    const items = isJsonObject(schema.items) ? schema.items : {};
    return value.map((item) => dropStrictNulls(item, items));
  }
  if (!isJsonObject(value) || !isJsonObject(schema.properties)) return value;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const out: Schema = {};
  for (const [key, item] of Object.entries(value)) {
    const prop = (schema.properties as Schema)[key];
    if (item === null && !required.has(key)) continue;
    out[key] = isJsonObject(prop) ? dropStrictNulls(item, prop) : item;
  }
  return out;
}

/** A reply's JSON text without the ```json fence some models wrap it in. */
export function unfence(text: string): string {
  const m = /^\s*```(?:json)?\s*\n?([\s\S]*?)\n?\s*```\s*$/.exec(text);
  return m ? m[1] : text;
}

/** Whether an HTTP error body says the server does not support this structured-output mode. */
export function refusesMode(mode: ConcreteMode, errorText: string): boolean {
  const text = errorText.toLowerCase();
  if (mode === 'tool') return /tool_choice|tool choice|tools? (?:are|is) not supported|function calling/.test(text);
  return /response_format|json_schema|json_object|json schema|structured output|strict|schema/.test(text);
}

/** The system-message note that carries the schema where the server will not (json_object mode). */
export function schemaNote(schema: Schema): string {
  return `Answer with one JSON object, and nothing else, that matches this JSON schema:\n${JSON.stringify(schema)}`;
}
