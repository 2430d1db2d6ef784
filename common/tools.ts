/**
 * The built-in tools as the model sees them: name, description, input schema and whether running one changes the
 * world. Sandbox-safe, so the executor workflow can check a call against the same schema the handler parses with;
 * what each tool *does* lives apart, in activities/tools/ (one handler module per tool).
 */
import { z } from 'zod';
import { jsonSchemaOf } from './json-schema';
import { sliceChars } from './limits';

/** Every tool the executor knows. The activity-side handlers are typed by this list, so the two cannot drift apart. */
export const TOOL_NAMES = ['calculator', 'read_file', 'write_file', 'list_files', 'http_get', 'escalate'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
export const toolNameSchema = z.enum(TOOL_NAMES);
/** A tool that runs in the `runTool` activity; `escalate` is handled by the executor workflow itself. */
export type RunnableToolName = Exclude<ToolName, 'escalate'>;

/** One tool's definition; `input` is the zod schema its handler parses the model's arguments with. */
export interface ToolDefinition<Input extends z.ZodType = z.ZodType> {
  name: ToolName;
  description: string;
  input: Input;
  /**
   * True when running the tool changes the world (files, remote state). Such a tool runs at most once per tool call,
   * unless it is `idempotent` (docs/delivery.md).
   */
  sideEffects: boolean;
  /**
   * True when running it again with the same arguments changes nothing more (MCP's `idempotentHint`): a retried
   * activity may run it again instead of telling the model it may already have run.
   */
  idempotent?: boolean;
}

function defineTool<Input extends z.ZodType>(definition: ToolDefinition<Input>): ToolDefinition<Input> {
  return definition;
}

const workspacePath = (example: string) =>
  z.string().min(1).describe(`Path relative to the workspace, e.g. "${example}"`);

export const calculatorTool = defineTool({
  name: 'calculator',
  description: 'Evaluate an arithmetic expression, e.g. "(17 * 3) / 4 + sqrt(16)". Returns the number.',
  input: z.object({ expression: z.string().min(1).max(1000).describe('The arithmetic expression') }).strict(),
  sideEffects: false,
});

export const readFileTool = defineTool({
  name: 'read_file',
  description: "Read a UTF-8 text file inside the goal's workspace.",
  input: z.object({ path: workspacePath('notes/answer.txt') }).strict(),
  sideEffects: false,
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description:
    "Write a UTF-8 text file inside the goal's workspace (creating folders as needed), replacing any file there.",
  input: z
    .object({ path: workspacePath('notes/answer.txt'), content: z.string().describe('The full text to write') })
    .strict(),
  sideEffects: true,
  // It replaces the whole file: a second write of the same content leaves the same file.
  idempotent: true,
});

export const listFilesTool = defineTool({
  name: 'list_files',
  description: "List a folder inside the goal's workspace (one entry per line; folders end with /).",
  input: z
    .object({ path: z.string().min(1).default('.').describe('Folder relative to the workspace; "." for its root') })
    .strict(),
  sideEffects: false,
});

export const httpGetTool = defineTool({
  name: 'http_get',
  description:
    'Fetch a URL with HTTP GET and return the status, content type and body as text. Only hosts the operator allowed ' +
    'can be fetched; redirects are not followed (the Location is returned, fetch it if its host is allowed).',
  input: z.object({ url: z.string().min(1).describe('Absolute http(s) URL') }).strict(),
  sideEffects: false,
});

/**
 * The model's way to give up on a subtask that cannot be done as specified. The executor workflow handles it itself
 * (it ends the subtask with `reason: 'escalated'` so the planner can replan): it has no handler.
 */
export const escalateTool = defineTool({
  name: 'escalate',
  description:
    'Stop work on this subtask and hand it back to the planner, when it cannot be done as specified (say why).',
  input: z
    .object({ reason: z.string().trim().min(1).describe('Why the subtask cannot be done as specified') })
    .strict(),
  sideEffects: false,
});

/** Every built-in tool's definition by name. */
export const TOOL_DEFINITIONS: { [Name in ToolName]: ToolDefinition } = {
  calculator: calculatorTool,
  read_file: readFileTool,
  write_file: writeFileTool,
  list_files: listFilesTool,
  http_get: httpGetTool,
  escalate: escalateTool,
};

/** A tool in the chat-completions `tools` array: what the model is offered. */
export interface FunctionToolSpec {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** The tools as the model sees them: name, description and the JSON schema generated from the zod input schema. */
export function toolSpecs(names: readonly ToolName[]): FunctionToolSpec[] {
  return names.map((name) => {
    const { description, input } = TOOL_DEFINITIONS[name];
    return { type: 'function', function: { name, description, parameters: jsonSchemaOf(input) } };
  });
}

/** Longest Web UI summary built; the server caps summaries at 400 bytes. */
const SUMMARY_LIMIT = 100;

/**
 * The Web UI summary of a tool activity, e.g. `write_file notes/answer.txt`: the tool name and its first string
 * argument (by the tools' convention the one that says what it acts on), on one line and truncated.
 */
export function toolCallSummary(name: string, args: Record<string, unknown>): string {
  const subject = Object.values(args).find((value): value is string => typeof value === 'string');
  const line = subject === undefined ? name : `${name} ${subject.replace(/\s+/g, ' ').trim()}`;
  return line.length > SUMMARY_LIMIT ? `${sliceChars(line, SUMMARY_LIMIT - 1)}…` : line;
}
