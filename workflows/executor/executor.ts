/**
 * The inner loop: one subtask in, one structured result out. A ReAct loop in the five phases of the seed
 * (input assembly → reasoning → action selection → execution → observation), with one activity per LLM call and one
 * per tool call, so Temporal checkpoints every step and a completed LLM call is never made again.
 *
 * The only ways in from outside are the signals `interrupt`, `pause` and `resume`, and cancellation. Their handlers
 * only record what arrived; the loop acts on it at fixed points (see docs/executor.md): it waits while
 * paused before each LLM call, and hands pending interrupts to the model at the next input assembly.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ToolObservation } from '../../activities/run-tool';
import { callModel } from '../activity-stubs';
import { type Budget, budgetLeft, exhaustedBudget, msLeft, resolveBudget } from './budget';
import { beforeDeadline, DEADLINE_PASSED } from './deadline';
import {
  type CallModelOutput,
  type ChatMessage,
  type ExecutorInput,
  type ExecutorProgress,
  type ExecutorResult,
  type ToolCall,
} from '../../common/types';
import {
  approvalDecisionSignal,
  decideApprovalUpdate,
  deniedCallsSignal,
  executorProgressQuery,
  interruptPayloadSchema,
  interruptSignal,
  interruptsSignal,
  pauseSignal,
  resumeSignal,
} from '../../common/contract';
import {
  ARGUMENTS_PREVIEW_CHARS,
  INTERRUPT_MESSAGE_CHARS,
  interruptBatches,
  preview,
  TOOL_CALL_RECORDS,
} from '../../common/limits';

import { approvalDecisionSchema, type ApprovalRelease, type PendingApproval } from '../../common/approvals';
import { rememberDenial } from '../../common/denials';
import { chargeCall } from '../../common/cost';
import {
  CONTENT_FILTER_END,
  CUT_OFF_OBSERVATION,
  EMPTY_REPLY_OBSERVATION,
  executorSystemPrompt,
  executorTaskMessage,
  interruptMessage,
} from '../prompts';
import { approvalsMarkdown, ApprovalGate } from './approvals';
import { mcpOffer, offeredNames, resolveToolSet, type ToolSet } from './tool-set';
import { checkToolCall, type ExecutableCall } from './tool-calls';
import { checkRepetition } from './repetition';
import { addEvidence, initialLoopState, knownDenials, type LoopState, spent, waitWhilePaused } from './loop-state';
import { budgetEnd, ended, finished } from './results';
import { execute } from './execution';
import { reportApprovals, reportResult, reportStep } from './reports';
import { endWith } from '../ending';
import { traceSubtaskEnd } from '../tracing';

/** What phase 3 decided the model's reply asks for. */
type Action =
  | { kind: 'final'; answer: string }
  | { kind: 'escalate'; reason: string }
  /** A reply the provider's content filter withheld: complete, but neither an answer nor calls to run. */
  | { kind: 'filtered' }
  | { kind: 'tools'; calls: ToolCall[]; checked: ExecutableCall[] }
  /** A reply without tool calls that cannot be used (empty, cut off): the problem goes back as a user message. */
  | { kind: 'retry'; problem: string };

/** Characters of each waiting interrupt that `progress` shows (`tandem status` prints one line per interrupt). */
const PENDING_INTERRUPT_PREVIEW_CHARS = 200;

/** Phase 1, input assembly: the messages the model has not seen yet, and any interrupts that arrived meanwhile. */
function assembleInput(input: ExecutorInput, state: LoopState): ChatMessage[] {
  state.phase = 'input_assembly';
  const fresh: ChatMessage[] =
    state.transcript === null
      ? [
          { role: 'system', content: executorSystemPrompt(input.subtask) },
          { role: 'user', content: executorTaskMessage(input.subtask, input.context) },
        ]
      : state.observations;
  // One batch per step: a storm of interrupts (each up to 8,000 characters) would otherwise put megabytes into one
  // callModel input, which the server refuses and the workflow task retries forever. The rest wait for the next
  // step, and a final answer is not taken while any wait (see runLoop).
  const [batch = []] = interruptBatches(state.interrupts);
  state.interruptsShown = (state.interruptsShown ?? 0) + batch.length;
  const interrupts = state.interrupts.splice(0, batch.length).map((message): ChatMessage => {
    addEvidence(state, `interrupt: ${message}`);
    return { role: 'user', content: interruptMessage(message) };
  });
  state.observations = [];
  return [...fresh, ...interrupts];
}

/** Phase 2, reasoning: the only LLM call, one activity, cancelled if the time budget runs out first. */
async function reason(
  input: ExecutorInput,
  state: LoopState,
  append: ChatMessage[],
  tools: ToolSet,
  deadlineMs: number | undefined,
) {
  state.phase = 'reasoning';
  const mcpTools = mcpOffer(tools);
  const reply = await beforeDeadline(deadlineMs, () =>
    callModel.executeWithOptions({ summary: `LLM step ${state.step}` }, [
      {
        purpose: 'step',
        subtaskId: input.subtask.id,
        transcript: state.transcript,
        append,
        tools: tools.builtIns,
        ...(mcpTools ? { mcpTools } : {}),
        ...(input.model ? { model: input.model } : {}),
      },
    ]),
  );
  if (reply === DEADLINE_PASSED) return reply;
  state.transcript = reply.transcript;
  chargeCall({ usage: state.usage, prices: input.prices }, reply);
  // Withheld text is not the best partial answer there is: the provider flagged it.
  if (reply.content?.trim() && reply.finishReason !== 'content_filter') state.lastText = reply.content;
  return reply;
}

/** Phase 3, action selection: a final answer, an escalation, tool calls to run, or a reply the model must redo. */
function selectAction(reply: CallModelOutput, tools: readonly string[]): Action {
  // Asking again sends the same transcript to the same filter; the planner's replan is where the subtask can change.
  if (reply.finishReason === 'content_filter') return { kind: 'filtered' };
  if (reply.finishReason === 'length') {
    if (reply.toolCalls.length === 0) return { kind: 'retry', problem: CUT_OFF_OBSERVATION };
    const refused: ExecutableCall = { kind: 'refused', observation: CUT_OFF_OBSERVATION };
    return { kind: 'tools', calls: reply.toolCalls, checked: reply.toolCalls.map(() => refused) };
  }
  if (reply.toolCalls.length === 0) {
    // A tool call written as text that could not be read (activities/model/): never a final answer.
    if (reply.problem) return { kind: 'retry', problem: reply.problem };
    const answer = reply.content?.trim() ?? '';
    return answer === '' ? { kind: 'retry', problem: EMPTY_REPLY_OBSERVATION } : { kind: 'final', answer };
  }
  const checked = reply.toolCalls.map((call) => checkToolCall(call, tools));
  const escalation = checked.find((call) => call.kind === 'escalate');
  if (escalation) return { kind: 'escalate', reason: escalation.reason };
  return {
    kind: 'tools',
    calls: reply.toolCalls,
    checked: checked.filter((call): call is ExecutableCall => call.kind !== 'escalate'),
  };
}

/** Phase 5, observation: each outcome becomes a tool message for the next input assembly and a line of evidence. */
function observe(state: LoopState, calls: ToolCall[], outcomes: ToolObservation[]): void {
  state.phase = 'observation';
  state.lastToolCalls = calls.map((call, index) => {
    const { ok, output, outputRef, outcomeUnknown } = outcomes[index];
    state.observations.push({ role: 'tool', toolCallId: call.id, content: output });
    addEvidence(state, `${call.name}(${call.arguments}) → ${output}`);
    // Records keep a preview of the arguments: a 700 kB file body in every record would carry into the result and
    // the continue-as-new state, past the 2 MB payload limit. The transcript (by reference) keeps them whole.
    const args = preview(call.arguments, ARGUMENTS_PREVIEW_CHARS);
    return {
      step: state.step,
      name: call.name,
      arguments: args,
      ok,
      ...(outputRef ? { outputRef } : {}),
      ...(outcomeUnknown ? { outcomeUnknown } : {}),
    };
  });
  state.toolCallCount = (state.toolCallCount ?? state.toolCalls.length) + state.lastToolCalls.length;
  state.toolCalls.push(...state.lastToolCalls);
  if (state.toolCalls.length > TOOL_CALL_RECORDS) state.toolCalls.splice(0, state.toolCalls.length - TOOL_CALL_RECORDS);
}

/** Phase 5, after the observations: a call made again and again is named to the model as repetition. */
function observeRepetition(state: LoopState, calls: ToolCall[]): void {
  const { state: repetition, note } = checkRepetition(state.repetition, calls);
  state.repetition = repetition;
  if (note) observeProblem(state, note);
}

/** Phase 5 for a reply without tool calls that could not be used: tell the model what was wrong. */
function observeProblem(state: LoopState, problem: string): void {
  state.phase = 'observation';
  state.observations.push({ role: 'user', content: problem });
  addEvidence(state, `step ${state.step}: ${problem}`);
}

/** What a run hands to its continuation: the subtask, and the loop's state at a step boundary. */
export type ExecutorRunInput = ExecutorInput & { continued?: LoopState };

/**
 * Continue-as-new at a step boundary, when the server suggests it (history near 4 MiB or 4,096 events): the
 * transcript is a reference, so the state carried over is small, and queries, signals and the parent's handle follow
 * the workflow id into the new run. Interrupts still queued and a pause travel with the state.
 */
async function handOver(input: ExecutorInput, state: LoopState): Promise<never> {
  await condition(allHandlersFinished);
  return continueAsNew<typeof executorWorkflow>({ ...input, continued: { ...state, lastToolCalls: [] } });
}

/** The loop itself, phase by phase; it returns when the model answers or something ends the subtask. */
async function runLoop(
  input: ExecutorInput,
  state: LoopState,
  budget: Budget,
  gate: ApprovalGate,
): Promise<ExecutorResult> {
  state.tools ??= await resolveToolSet(input);
  const tools = state.tools;
  for (;;) {
    // Interrupts travel with the state: more than one batch waiting is handed to the model first, step by step,
    // so the continuation's input stays under the payload limit.
    if (workflowInfo().continueAsNewSuggested && interruptBatches(state.interrupts).length <= 1) {
      await handOver(input, state);
    }
    await waitWhilePaused(state);
    const exhausted = exhaustedBudget(budget, spent(state));
    if (exhausted) return budgetEnd(state, budget, exhausted);
    state.step += 1;
    const reply = await reason(input, state, assembleInput(input, state), tools, msLeft(budget, spent(state)));
    if (reply === DEADLINE_PASSED) return budgetEnd(state, budget, 'time');
    state.phase = 'action_selection';
    const action = selectAction(reply, offeredNames(tools));
    // A final answer wins unless an interrupt arrived meanwhile: then the model sees its answer and the message.
    if (action.kind === 'final' && state.interrupts.length === 0) return finished(state, action.answer);
    if (action.kind === 'escalate') return ended(state, 'escalated', `escalated by the model: ${action.reason}`);
    if (action.kind === 'filtered') return ended(state, 'content_filter', CONTENT_FILTER_END);
    if (action.kind === 'retry') observeProblem(state, action.problem);
    else if (action.kind === 'tools') {
      observe(state, action.calls, await execute(input, state, action.checked, gate, budget));
      observeRepetition(state, action.calls);
    }
    await reportStep(input, state);
  }
}

/** Runs one subtask to a final answer, or until a budget, an escalation, a model error or a cancel ends it. */
export async function executorWorkflow(input: ExecutorRunInput): Promise<ExecutorResult> {
  const budget = resolveBudget(input);
  const state: LoopState = input.continued ?? initialLoopState(input, Date.now());
  setHandler(interruptSignal, (payload) => {
    const parsed = interruptPayloadSchema.safeParse(payload);
    if (parsed.success) state.interrupts.push(parsed.data.message);
    else log.warn('dropped a malformed interrupt signal', { error: parsed.error.message });
  });
  setHandler(interruptsSignal, ({ messages }) => {
    const usable = (Array.isArray(messages) ? messages : []).filter(
      (message): message is string =>
        typeof message === 'string' && message.trim() !== '' && message.length <= INTERRUPT_MESSAGE_CHARS,
    );
    state.interrupts.push(...usable);
  });
  setHandler(pauseSignal, () => {
    state.paused = true;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
  });
  const showHeld = async (pending: PendingApproval[], released?: ApprovalRelease) => {
    state.phase = pending.length ? 'awaiting_approval' : 'execution';
    setCurrentDetails(approvalsMarkdown(pending));
    await reportApprovals(input, pending, released);
  };
  // Reports go one at a time, each with what is held when it is sent: two signals issued in one workflow task may
  // reach the planner in either order, and the planner keeps the last report it got, so of two calls held at once one
  // could vanish from the goal's list, where nobody could approve it.
  let reports = Promise.resolve();
  const gate: ApprovalGate = new ApprovalGate((_, released) => {
    reports = reports.then(() => showHeld(gate.pending(), released));
    return reports;
  });
  // A person deciding directly on this executor (one run alone); under a planner, decisions come as the signal below.
  setHandler(
    decideApprovalUpdate,
    (decision) => {
      gate.decide(decision);
      return { callId: decision.callId, subtaskId: input.subtask.id, approve: decision.approve };
    },
    {
      validator: (decision) => {
        const parsed = approvalDecisionSchema.safeParse(decision);
        if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join('; '));
        const refusal = gate.refusal(parsed.data);
        if (refusal) throw new Error(refusal);
      },
    },
  );
  setHandler(approvalDecisionSignal, (decision) => {
    const parsed = approvalDecisionSchema.safeParse(decision);
    const refusal = parsed.success ? gate.refusal(parsed.data) : parsed.error.message;
    if (refusal === undefined && parsed.success) gate.decide(parsed.data);
    else log.warn('dropped an approval decision', { refusal });
  });
  setHandler(deniedCallsSignal, ({ denials }) => {
    const known = knownDenials(state, input);
    for (const denial of Array.isArray(denials) ? denials : []) rememberDenial(known, denial);
    gate.learn(known);
  });
  const progressNow = (): ExecutorProgress => ({
    subtaskId: input.subtask.id,
    status: state.status,
    step: state.step,
    phase: state.phase,
    paused: state.paused,
    lastToolCalls: state.lastToolCalls,
    usage: { ...state.usage },
    budget: budgetLeft(budget, spent(state)),
    // Previews: a storm of interrupts waits here in megabytes, past what a query may answer (2 MB).
    pendingInterrupts: state.interrupts.map((message) => preview(message, PENDING_INTERRUPT_PREVIEW_CHARS)),
    transcript: state.transcript,
    pendingApprovals: gate.pending(),
    ...(state.tools
      ? {
          mcpTools: state.tools.mcp.map(({ name, server, tool, sideEffects }) => ({ name, server, tool, sideEffects })),
        }
      : {}),
  });
  setHandler(executorProgressQuery, progressNow);

  let result: ExecutorResult;
  try {
    result = await runLoop(input, state, budget, gate);
  } catch (err) {
    if (isCancellation(err)) {
      result = ended(state, 'cancelled', 'the subtask was cancelled');
    } else if (err instanceof ActivityFailure && err.activityType === 'callModel') {
      // The retry policy gave up, or the endpoint refused the request (401, 404, ...): end with the endpoint's words.
      result = ended(state, 'model_error', `the model call failed: ${err.cause?.message ?? err.message}`);
    } else {
      throw err;
    }
  }
  state.phase = 'finished';
  // Non-cancellable: after a cancel the root scope is cancelled, and the result must still be returned.
  await CancellationScope.nonCancellable(async () => {
    await reportResult(input, result);
    await condition(allHandlersFinished);
  });
  // An interrupt that came after the loop's last look (after the final answer, before the close) reached no model:
  // the result says how many, so none is lost in silence (the planner counts its own from `interruptsShown`).
  const unshown = state.interrupts.length;
  traceSubtaskEnd(input.subtask, result);
  return endWith(unshown > 0 ? { ...result, undeliveredInterrupts: unshown } : result, 'subtask', progressNow());
}
