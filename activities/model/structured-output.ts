/**
 * Structured output (plans, verdicts) in the form each server accepts. `TANDEM_STRUCTURED_OUTPUT`:
 * - `json_schema`: `response_format: {type: 'json_schema', json_schema: {name, schema, strict: true}}` with the schema
 *   made strict-compatible (every property required, optional ones nullable, no additional properties), and the
 *   nulls the model then sends for optional fields removed again before anyone reads the reply;
 * - `json_object`: `response_format: {type: 'json_object'}` with the schema in the system message;
 * - `tool`: one forced tool call whose parameters are the schema; its arguments are the reply;
 * - `auto` (default): `json_schema`, then `json_object`, then `tool`, each time a server refuses the mode (400/422
 *   naming it). The mode that worked is remembered per endpoint and model for the life of the worker.
 */
import { isJsonObject } from '../../common/lenient-json';
import type { StructuredOutputMode } from '../../node/config';

export type ConcreteMode = Exclude<StructuredOutputMode, 'auto'>;
export const MODE_ORDER: readonly ConcreteMode[] = ['json_schema', 'json_object', 'tool'];

type Schema = Record<string, unknown>;

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
