/**
 * The peer on Temporal: the same ReAct loop written with the AI SDK's `generateText` through `@temporalio/ai-sdk`,
 * whose provider turns every model call into an `invokeModel` activity. The calculator runs as an ordinary activity,
 * the floor's, as the AI SDK's Temporal docs show tools. Bundled apart from tandem's workflows.
 */
import '@temporalio/ai-sdk/lib/load-polyfills';
import { temporalProvider } from '@temporalio/ai-sdk';
import { proxyActivities } from '@temporalio/workflow';
import { generateText, stepCountIs, tool } from 'ai';
import { z } from 'zod';
import type * as floorActivities from '../floor/activities';

const { floorCalculator } = proxyActivities<typeof floorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

/** Runs the loop until the model answers without a tool call; returns the number of model calls. */
export async function aiSdkLoopWorkflow(input: { instructions: string; maxSteps: number }): Promise<number> {
  const result = await generateText({
    model: temporalProvider.languageModel('scripted-model'),
    system: 'You are a benchmark agent.',
    prompt: input.instructions,
    tools: {
      calculator: tool({
        description: 'Evaluate an arithmetic expression. Returns the number.',
        inputSchema: z.object({ expression: z.string() }),
        execute: ({ expression }) => floorCalculator(JSON.stringify({ expression })),
      }),
    },
    stopWhen: stepCountIs(input.maxSteps),
  });
  return result.steps.length;
}
