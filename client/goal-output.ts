/**
 * `tandem output ID <ref>`: a full tool output from the content store. Executors keep only a trimmed observation in
 * history and the whole output in the store, by reference; this reads it back from the store every worker shares.
 */
import type { Client } from '@temporalio/client';
import { contentStore } from '../activities/content-store';
import { describeGoal, GoalError, queryProgress } from './goals';

/** The tool-call records that may carry an output reference, as the executor branch adds `outputRef` to them. */
interface WithToolCalls {
  toolCalls?: Array<{ outputRef?: string }>;
  result?: { toolCalls?: Array<{ outputRef?: string }> };
}

/** Every output reference the goal's progress and (when finished) result mention. */
async function outputRefsOf(client: Client, id: string): Promise<Set<string>> {
  const { handle, description } = await describeGoal(client, id);
  const records: WithToolCalls[] = [...((await queryProgress(client, handle)).subtasks as WithToolCalls[])];
  if (description.status.name === 'COMPLETED') records.push(...((await handle.result()).subtasks as WithToolCalls[]));
  const refs = records.flatMap((record) => [...(record.toolCalls ?? []), ...(record.result?.toolCalls ?? [])]);
  return new Set(refs.flatMap((call) => (call.outputRef ? [call.outputRef] : [])));
}

/**
 * The stored text of `ref`, after checking that it belongs to goal `id` (when the goal's records carry references at
 * all), so that a typo in the id is not answered with another goal's output.
 */
export async function goalOutput(client: Client, id: string, ref: string): Promise<string> {
  const refs = await outputRefsOf(client, id);
  if (refs.size > 0 && !refs.has(ref)) {
    throw new GoalError(`goal "${id}" has no tool output ${ref}; see its outputRefs with: tandem result ${id} --json`);
  }
  return contentStore().get(ref);
}
