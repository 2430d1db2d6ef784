/**
 * Phase 3 checks on each tool call the model made, before anything runs: is the tool offered, are the arguments a
 * JSON object, is it `escalate`? Pure, so it is unit-tested without a server. The arguments' schema is checked by the
 * tool itself in the `runTool` activity, where the zod schemas of the tools live.
 */
import { escalateTool, type RunnableToolName } from '../../common/tools';
import type { McpToolName } from '../../common/mcp';
import type { ToolCall } from '../../common/types';
import { badArgumentsObservation, unknownToolObservation } from '../prompts';

/** A tool call as the executor will handle it. */
export type CheckedCall =
  | { kind: 'run'; call: ToolCall & { name: RunnableToolName | McpToolName }; args: Record<string, unknown> }
  | { kind: 'escalate'; reason: string }
  | { kind: 'refused'; observation: string };

/** A call phase 4 handles: run as an activity, or answered with the refusal (an escalation never gets that far). */
export type ExecutableCall = Exclude<CheckedCall, { kind: 'escalate' }>;

/** Sorts one tool call into run, escalate or refused (with the observation that tells the model why). */
export function checkToolCall(call: ToolCall, offered: readonly string[]): CheckedCall {
  if (!offered.includes(call.name)) {
    return { kind: 'refused', observation: unknownToolObservation(call.name, offered) };
  }
  // The model boundary kept the request valid (`arguments` is `{}`) and recorded what the model actually sent.
  if (call.invalidArguments) {
    const { problem, raw } = call.invalidArguments;
    return { kind: 'refused', observation: badArgumentsObservation(call.name, `${problem}; you sent: ${raw}`) };
  }
  let args: unknown;
  try {
    args = JSON.parse(call.arguments || '{}');
  } catch (err) {
    return { kind: 'refused', observation: badArgumentsObservation(call.name, (err as Error).message) };
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { kind: 'refused', observation: badArgumentsObservation(call.name, 'they are not a JSON object') };
  }
  if (call.name === 'escalate') {
    const parsed = escalateTool.input.safeParse(args);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(arguments)'}: ${issue.message}`);
      return { kind: 'refused', observation: badArgumentsObservation(call.name, problems.join('; ')) };
    }
    return { kind: 'escalate', reason: parsed.data.reason };
  }
  const name = call.name as RunnableToolName | McpToolName;
  return { kind: 'run', call: { ...call, name }, args: args as Record<string, unknown> };
}
