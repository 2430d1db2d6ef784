import { z } from 'zod';

/**
 * The JSON schema the model sees for a zod schema (tool inputs, structured outputs). Pure, so workflows may call it.
 * The `$schema` dialect marker is dropped: some OpenAI-compatible servers reject unknown top-level keys.
 */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  delete generated.$schema;
  return generated;
}
