/**
 * The inner loop: one subtask in, one structured result out. A ReAct loop in the five phases of the seed
 * (input assembly → reasoning → action selection → execution → observation), with one activity per LLM call and one
 * per tool call, so Temporal checkpoints every step and a completed LLM call is never made again.
 */
import { setHandler, workflowInfo } from '@temporalio/workflow';
import { callModel, runTool } from './activities';
import {
  type CallModelOutput,
  type ChatMessage,
  type ExecutorInput,
  type ExecutorProgress,
  type ExecutorResult,
  executorProgressQuery,
  TOOL_NAMES,
  type ToolCall,
  type ToolName,
} from './definitions';
import { executorSystemPrompt, executorTaskMessage } from './prompts';

/** Steps (LLM calls) a subtask may take when neither the subtask nor the planner says otherwise. */
export const DEFAULT_MAX_STEPS = 20;

type Action = { kind: 'final'; answer: string } | { kind: 'tools'; calls: ToolCall[] };

interface LoopState {
  transcript: string | null;
  step: number;
  result: Omit<ExecutorResult, 'ok' | 'answer' | 'reason' | 'evidence'>;
  observations: string[];
}

/** Phase 1, input assembly: the messages the model has not seen yet (the task on the first step, observations after). */
function assembleInput(input: ExecutorInput, state: LoopState, observations: ChatMessage[]): ChatMessage[] {
  if (state.transcript !== null) return observations;
  return [
    { role: 'system', content: executorSystemPrompt(input.subtask) },
    { role: 'user', content: executorTaskMessage(input.subtask, input.context) },
  ];
}

/** Phase 2, reasoning: the only LLM call, one activity. */
async function reason(state: LoopState, append: ChatMessage[], tools: ToolName[]): Promise<CallModelOutput> {
  const reply = await callModel.executeWithOptions({ summary: `LLM step ${state.step}` }, [
    { transcript: state.transcript, append, tools },
  ]);
  state.transcript = reply.transcript;
  state.result.usage.promptTokens += reply.usage.promptTokens;
  state.result.usage.completionTokens += reply.usage.completionTokens;
  return reply;
}

/** Phase 3, action selection: tool calls to run, or a final answer. */
function selectAction(reply: CallModelOutput): Action {
  if (reply.toolCalls.length > 0) return { kind: 'tools', calls: reply.toolCalls };
  return { kind: 'final', answer: reply.content ?? '' };
}

/** Phase 4, execution: one activity per tool call, run concurrently; results come back in the model's order. */
async function execute(input: ExecutorInput, state: LoopState, calls: ToolCall[], tools: ToolName[]) {
  const { workflowId } = workflowInfo();
  return Promise.all(
    calls.map(async (call) => {
      if (!(tools as string[]).includes(call.name)) {
        return { ok: false, output: `unknown tool "${call.name}"; the tools you can call are: ${tools.join(', ')}` };
      }
      return runTool.executeWithOptions({ summary: `${call.name} (step ${state.step})` }, [
        {
          workspace: input.workspace,
          call: { ...call, name: call.name as ToolName },
          callKey: `${workflowId}/${state.step}/${call.id}`,
        },
      ]);
    }),
  );
}

/** Phase 5, observation: each tool result becomes a tool message for the next input assembly. */
function observe(state: LoopState, calls: ToolCall[], outcomes: Array<{ ok: boolean; output: string }>): ChatMessage[] {
  return calls.map((call, index) => {
    const outcome = outcomes[index];
    state.result.toolCalls.push({ step: state.step, name: call.name, arguments: call.arguments, ok: outcome.ok });
    state.observations.push(`${call.name}(${call.arguments}) → ${outcome.output}`);
    return { role: 'tool', toolCallId: call.id, content: outcome.output };
  });
}

function evidenceOf(state: LoopState, answer: string | null): string {
  return [...state.observations, ...(answer === null ? [] : [`final answer: ${answer}`])].join('\n');
}

/** Runs one subtask to a final answer or until its step budget ends it. */
export async function executorWorkflow(input: ExecutorInput): Promise<ExecutorResult> {
  const tools = input.tools ?? [...TOOL_NAMES];
  const maxSteps = input.maxSteps ?? DEFAULT_MAX_STEPS;
  const state: LoopState = {
    transcript: null,
    step: 0,
    result: { steps: 0, usage: { promptTokens: 0, completionTokens: 0 }, toolCalls: [] },
    observations: [],
  };
  let status: ExecutorProgress['status'] = 'running';
  setHandler(executorProgressQuery, (): ExecutorProgress => ({
    subtaskId: input.subtask.id,
    status,
    step: state.step,
    usage: { ...state.result.usage },
  }));

  let observations: ChatMessage[] = [];
  while (state.step < maxSteps) {
    state.step += 1;
    state.result.steps = state.step;
    const reply = await reason(state, assembleInput(input, state, observations), tools);
    const action = selectAction(reply);
    if (action.kind === 'final') {
      status = 'done';
      return { ok: true, answer: action.answer, ...state.result, evidence: evidenceOf(state, action.answer) };
    }
    observations = observe(state, action.calls, await execute(input, state, action.calls, tools));
  }
  status = 'failed';
  return { ok: false, answer: null, reason: 'max_steps', ...state.result, evidence: evidenceOf(state, null) };
}
