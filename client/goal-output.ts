/**
 * `tandem output ID <ref>`: a full tool output (or a long model reply) from the content store. Executors keep only a
 * trimmed text in history and the whole of it in the store, by reference; this reads it back from the store every
 * worker shares.
 */
import type { Client } from '@temporalio/client';
import { contentStore } from '../activities/content-store';
import { loadConfig } from '../node/config';
import { describeGoal, GoalError, runResult } from './goals';
import { shellArg } from './shell-arg';

/** Every content reference a finished goal's result mentions: tool calls' `outputRef`s and notes in trimmed replies. */
async function refsOfFinishedGoal(client: Client, id: string): Promise<Set<string>> {
  const { handle, description } = await describeGoal(client, id);
  if (description.status.name === 'RUNNING') return new Set();
  const ended = await runResult(handle);
  if (!('result' in ended)) return new Set();
  return new Set(JSON.stringify(ended.result).match(/sha256:[0-9a-f]{64}/g) ?? []);
}

/**
 * The stored text of `ref`, after checking (when the goal's result mentions references at all) that it is one of the
 * goal's, so that a typo in the id is not answered with another goal's output.
 */
export async function goalOutput(client: Client, id: string, ref: string): Promise<string> {
  const refs = await refsOfFinishedGoal(client, id);
  if (refs.size > 0 && !refs.has(ref)) {
    throw new GoalError(
      `goal "${id}" has no stored output ${ref}; see its outputRefs with: tandem result ${shellArg(id)} --json`,
    );
  }
  return contentStore(loadConfig().store).get(ref);
}
