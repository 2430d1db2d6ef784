/**
 * What runs when the model calls a tool: a handler bound to its definition (common/tools.ts), which is what the model
 * sees. Each handler lives in its own module under activities/tools/ and is listed in ./index.ts.
 */
import type { z } from 'zod';
import type { ToolDefinition } from '../../common/tools';
import type { TandemConfig } from '../../node/config';

export interface ToolContext {
  /** The goal's workspace folder; file tools must stay inside it. */
  workspaceDir: string;
  /** Aborted when the activity is cancelled. */
  signal: AbortSignal;
  /** The worker's settings (the HTTP allow-list, limits). */
  config: TandemConfig;
}

export interface ToolHandler<Input extends z.ZodType = z.ZodType> {
  definition: ToolDefinition<Input>;
  /** Runs the call on arguments already parsed by `definition.input`; returns the observation text. */
  execute(input: z.infer<Input>, context: ToolContext): Promise<string>;
}

/** Binds a handler to its definition, with the input type inferred from the definition's schema. */
export function defineHandler<Input extends z.ZodType>(
  definition: ToolDefinition<Input>,
  execute: ToolHandler<Input>['execute'],
): ToolHandler<Input> {
  return { definition, execute };
}

/** Thrown by a tool for a problem the model can fix by calling it differently (the message goes back to the model). */
export class ToolInputError extends Error {
  override name = 'ToolInputError';
}
