import { escalateInputSchema } from '../../workflows/definitions';
import { defineTool } from './tool';

/**
 * The model's way to give up on a subtask that cannot be done as specified. The executor workflow handles the call
 * itself (it ends the subtask with `reason: 'escalated'` so the planner can replan), so `execute` only runs when
 * some other caller sends it to `runTool`; it then just echoes the reason.
 */
export const escalate = defineTool({
  name: 'escalate',
  description:
    'Stop work on this subtask and hand it back to the planner, when it cannot be done as specified (say why).',
  input: escalateInputSchema,
  sideEffects: false,
  execute: async ({ reason }) => `escalated: ${reason}`,
  summarize: ({ reason }) => `escalate ${reason}`,
});
