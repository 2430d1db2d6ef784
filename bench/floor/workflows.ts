/**
 * The floor: the least a durable ReAct loop on Temporal can do per step, one activity for the model and one for the
 * tool, the conversation kept in workflow state. Bundled apart from tandem's workflows. Two variants measure what goes
 * below the floor: the tool as a local activity, and both calls as local activities.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type * as activities from './activities';
import type { FloorMessage } from './activities';

const regular = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});
const local = proxyLocalActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

/** What a floor run is asked to do. */
export interface FloorInput {
  baseURL: string;
  instructions: string;
  maxSteps: number;
  /** `regular`: both calls are activities (the floor); `localTool`: the tool is a local activity; `local`: both are. */
  mode: 'regular' | 'localTool' | 'local';
}

/** Runs the loop until the model answers without a tool call; returns the number of model calls. */
export async function floorLoopWorkflow(input: FloorInput): Promise<number> {
  const model = input.mode === 'local' ? local : regular;
  const tool = input.mode === 'regular' ? regular : local;
  const messages: FloorMessage[] = [
    { role: 'system', content: 'You are a benchmark agent.' },
    { role: 'user', content: input.instructions },
  ];
  for (let step = 1; step <= input.maxSteps; step++) {
    const reply = await model.floorCallModel(input.baseURL, messages);
    messages.push(reply);
    if (!reply.tool_calls) return step;
    for (const call of reply.tool_calls) {
      const output = await tool.floorCalculator(call.function.arguments);
      messages.push({ role: 'tool', tool_call_id: call.id, content: output });
    }
  }
  return input.maxSteps;
}
