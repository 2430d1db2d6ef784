/**
 * The shape of one tool: what the model sees (name, description, JSON schema from zod) and what runs (execute).
 * Each tool lives in its own module under activities/tools/ and is listed in ./index.ts.
 */
import { z } from 'zod';
import type { ToolName } from '../../workflows/definitions';

export interface ToolContext {
  /** The goal's workspace folder; file tools must stay inside it. */
  workspaceDir: string;
  /** Aborted when the activity is cancelled. */
  signal: AbortSignal;
}

export interface Tool<Input extends z.ZodType = z.ZodType> {
  name: ToolName;
  description: string;
  input: Input;
  /**
   * True when running the tool changes the world (files, remote state). Such a tool runs at most once per tool-call
   * id: its result is recorded and a retried activity returns the record instead of acting again.
   */
  sideEffects: boolean;
  execute(input: z.infer<Input>, context: ToolContext): Promise<string>;
  /** One line for the Web UI's activity summary, e.g. `write_file notes/answer.txt`. */
  summarize(input: z.infer<Input>): string;
}

/** Declares a tool with its input type inferred from the schema. */
export function defineTool<Input extends z.ZodType>(tool: Tool<Input>): Tool<Input> {
  return tool;
}

/** Thrown by a tool for a problem the model can fix by calling it differently (the message goes back to the model). */
export class ToolInputError extends Error {
  override name = 'ToolInputError';
}
