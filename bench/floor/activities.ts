/**
 * The floor's two activities: one model call, one tool call, nothing else. The model call is one plain
 * chat-completions POST (no transcript store, no usage accounting, no normalisation) and the tool is tandem's own
 * calculator, so the floor does the same work per step as every other contender, minus tandem's bookkeeping.
 */
import { evaluateArithmetic } from '../../activities/tools/calculator';
import { toolSpecs } from '../../common/tools';

/** A chat-completions message as the floor keeps it in workflow state. */
export interface FloorMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

/** One model call: the whole conversation in, the assistant message out. */
export async function floorCallModel(baseURL: string, messages: FloorMessage[]): Promise<FloorMessage> {
  const response = await fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body: JSON.stringify({ model: 'scripted-model', messages, tools: toolSpecs(['calculator']) }),
  });
  if (!response.ok) throw new Error(`scripted model answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { choices: Array<{ message: FloorMessage }> };
  const { content, tool_calls } = body.choices[0].message;
  return { role: 'assistant', content, ...(tool_calls?.length ? { tool_calls } : {}) };
}

/** One calculator call; a bad expression becomes the observation, as in tandem. */
export async function floorCalculator(argumentsJson: string): Promise<string> {
  try {
    return String(evaluateArithmetic((JSON.parse(argumentsJson) as { expression: string }).expression));
  } catch (err) {
    return `calculator failed: ${(err as Error).message}`;
  }
}
