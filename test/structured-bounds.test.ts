/**
 * Structured-output schemas a grammar-constrained server cannot turn into unbounded output (issue 25): llama.cpp
 * compiles `json_schema` into a grammar, and a string or array with no upper bound (or a pattern with `+`, which it
 * obeys instead of `maxLength`) let a small model write tool names until the 5-minute call limit. Checked on what
 * goes over the wire, in every structured mode, and on the plan schema itself.
 */
import { isJsonObject } from '../common/lenient-json';
import { TOOL_NAMES } from '../common/tools';
import { planSchema, verdictSchema } from '../common/types';
import { jsonSchemaOf } from '../common/json-schema';
import { match, reply, startScriptedModel, type ScriptedModel } from '../dev/scripted-model';
import { forgetCapabilities, requestModelReply } from '../activities/model/request';
import {
  boundedSchema,
  STRUCTURED_ARRAY_MAX_ITEMS,
  STRUCTURED_STRING_MAX_CHARS,
} from '../activities/model/structured-output';
import { loadConfig } from '../node/config';
import { checkPlan, MAX_SUBTASKS, planJsonSchema } from '../workflows/planner/plan';

/**
 * Where a schema still admits output of any length, as JSON pointers: a string with neither an enum, a const, a
 * format, nor a `maxLength` and a pattern free of unbounded quantifiers; an array without `maxItems`.
 */
function unboundedPaths(node: unknown, at = ''): string[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => unboundedPaths(item, `${at}/${i}`));
  if (!isJsonObject(node)) return [];
  const found: string[] = [];
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes('string') && node.enum === undefined && node.const === undefined && !node.format) {
    const pattern = typeof node.pattern === 'string' ? node.pattern : undefined;
    // llama.cpp follows a pattern and ignores maxLength beside it, so a pattern must bound the length itself.
    if (pattern ? /(?<!\\)(?:[+*]|\{\d+,\})/.test(pattern) : typeof node.maxLength !== 'number') found.push(at);
  }
  if (types.includes('array') && typeof node.maxItems !== 'number') found.push(at);
  for (const [key, value] of Object.entries(node)) {
    if (key === 'enum' || key === 'const' || key === 'default') continue;
    if (key === 'properties' && isJsonObject(value)) {
      for (const [name, prop] of Object.entries(value)) found.push(...unboundedPaths(prop, `${at}/properties/${name}`));
    } else found.push(...unboundedPaths(value, `${at}/${key}`));
  }
  return found;
}

describe('structured-output schemas under a grammar', () => {
  it('the plan schema names tools by an enum of the built-in names, not a pattern', () => {
    const subtasks = (planJsonSchema().properties as Record<string, Record<string, unknown>>).subtasks;
    const props = (subtasks.items as { properties: Record<string, Record<string, unknown>> }).properties;
    expect(props.tools.items).toEqual({ type: 'string', enum: [...TOOL_NAMES] });
    expect(JSON.stringify(props.tools)).not.toContain('__');
    expect(subtasks.maxItems).toBe(MAX_SUBTASKS);
    expect(props.dependsOn.items).toEqual({ type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' });
  });

  it('the zod schemas as generated leave strings and arrays unbounded (what the boundary must bound)', () => {
    expect(unboundedPaths(jsonSchemaOf(planSchema))).toEqual(
      expect.arrayContaining([
        '/properties/subtasks',
        '/properties/subtasks/items/properties/instructions',
        '/properties/subtasks/items/properties/tools/items/anyOf/1',
      ]),
    );
    expect(unboundedPaths(jsonSchemaOf(verdictSchema))).toEqual(['/properties/reason']);
  });

  it('bounds every string and array of the plan and verdict schemas once through the boundary', () => {
    expect(unboundedPaths(boundedSchema(planJsonSchema()))).toEqual([]);
    expect(unboundedPaths(boundedSchema(jsonSchemaOf(verdictSchema)))).toEqual([]);
  });

  it.each([
    ['a pattern with +', { type: 'string', pattern: '^[a-z]+$' }, { type: 'string', maxLength: 4000 }],
    ['a pattern with *', { type: 'string', pattern: '^a[0-9]*$', maxLength: 9 }, { type: 'string', maxLength: 9 }],
    ['a pattern with {n,}', { type: 'string', pattern: '^x{2,}$' }, { type: 'string', maxLength: 4000 }],
    [
      'a bounded pattern',
      { type: 'string', pattern: '^[a-z]{1,8}\\+$' },
      { type: 'string', pattern: '^[a-z]{1,8}\\+$', maxLength: 4000 },
    ],
    ['a nullable string', { type: ['string', 'null'] }, { type: ['string', 'null'], maxLength: 4000 }],
    ['an enum', { type: 'string', enum: ['a+', 'b'] }, { type: 'string', enum: ['a+', 'b'] }],
    ['a format', { type: 'string', format: 'date-time' }, { type: 'string', format: 'date-time' }],
    [
      'an array of strings',
      { type: 'array', items: { type: 'string' } },
      { type: 'array', items: { type: 'string', maxLength: 4000 }, maxItems: 24 },
    ],
    ['an array with its own bound', { type: 'array', maxItems: 3 }, { type: 'array', maxItems: 3 }],
    [
      'strings under anyOf and in properties named like keywords',
      { type: 'object', properties: { pattern: { anyOf: [{ type: 'string' }, { type: 'null' }] } } },
      { type: 'object', properties: { pattern: { anyOf: [{ type: 'string', maxLength: 4000 }, { type: 'null' }] } } },
    ],
  ])('bounds %s', (_what, schema, expected) => {
    expect(STRUCTURED_STRING_MAX_CHARS).toBe(4000);
    expect(STRUCTURED_ARRAY_MAX_ITEMS).toBe(24);
    expect(boundedSchema(schema)).toEqual(expected);
  });

  it('a plan that uses the bounds in full is still a valid plan', () => {
    const subtask = (i: number) => ({
      id: `s${i}`,
      title: 't'.repeat(120),
      instructions: 'i'.repeat(STRUCTURED_STRING_MAX_CHARS),
      milestone: 'm',
      dependsOn: i ? ['s0'] : [],
    });
    const plan = { subtasks: Array.from({ length: 8 }, (_, i) => subtask(i)) };
    expect(checkPlan(JSON.stringify(plan)).ok).toBe(true);
  });

  describe('on the wire', () => {
    let model: ScriptedModel;
    beforeAll(async () => (model = await startScriptedModel()));
    afterAll(() => model.close());
    afterEach(() => {
      model.reset();
      forgetCapabilities();
    });

    it.each(['json_schema', 'tool'] as const)('a plan request in %s mode carries a bounded schema', async (mode) => {
      const settings = loadConfig({
        OPENAI_BASE_URL: model.baseURL,
        TANDEM_MODEL: 'm',
        TANDEM_STRUCTURED_OUTPUT: mode,
      }).model;
      const plan = '{"subtasks":[{"id":"s1","title":"t","instructions":"i","milestone":"m","dependsOn":[]}]}';
      model.on(match.any, mode === 'tool' ? reply.toolCalls([{ name: 'plan', arguments: plan }]) : reply.text(plan));
      const response = await requestModelReply(
        {
          input: { purpose: 'plan', tools: [], responseFormat: { name: 'plan', schema: planJsonSchema() } },
          messages: [{ role: 'user', content: 'Goal: x' }],
          idSeed: 'p',
        },
        { settings, signal: new AbortController().signal },
      );
      expect(response.structuredMode).toBe(mode);
      const body = model.requests[0].body as {
        response_format?: { json_schema: { schema: unknown } };
        tools?: Array<{ function: { name: string; parameters: unknown } }>;
      };
      const sent =
        mode === 'tool'
          ? body.tools!.find((tool) => tool.function.name === 'plan')!.function.parameters
          : body.response_format!.json_schema.schema;
      expect(unboundedPaths(sent)).toEqual([]);
      expect(response.reply.content).toBe(plan);
    });
  });
});
