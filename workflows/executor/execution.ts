/**
 * Phase 4 of the executor's loop, execution: the calls the model asked for, each run as an activity (or refused, or
 * put to a person first at the approval gate), all at once, their outcomes in the model's order.
 */
import { ActivityFailure, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { ToolObservation } from '../../activities/run-tool';
import { needsApproval, type PendingApproval } from '../../common/approvals';
import { callFingerprints } from '../../common/denials';
import { ARGUMENTS_PREVIEW_CHARS, OBSERVATIONS_BUDGET_BYTES, preview } from '../../common/limits';
import type { ExecutorInput } from '../../common/types';
import { toolCallSummary, type ToolName } from '../../common/tools';
import { runTool, runToolLocally } from '../activity-stubs';
import { toolUnavailableObservation } from '../prompts';
import { approvalCallId, approvalWait, type ApprovalGate } from './approvals';
import { type Budget, msLeft } from './budget';
import { knownDenials, spent, type LoopState } from './loop-state';
import { hasSideEffects, mcpTarget } from './tool-set';
import type { ExecutableCall } from './tool-calls';

/** Tools quick and free of side effects enough to run as a local activity (see `runToolLocally`). */
const LOCAL_TOOLS: ReadonlySet<ToolName> = new Set(['calculator']);

/**
 * Phase 4, execution: one activity per runnable call, all concurrent; outcomes come back in the model's order. A call
 * the approval policy names first waits at the gate; a denied one is never run. An MCP call whose server stayed out of
 * reach through the activity's retries becomes an observation, like any other tool failure.
 */
export async function execute(
  input: ExecutorInput,
  state: LoopState,
  checked: ExecutableCall[],
  gate: ApprovalGate,
  budget: Budget,
): Promise<ToolObservation[]> {
  state.phase = 'execution';
  // The run chain's first run id makes the key one run's own: a later start under the same workflow id (a reused --id,
  // a --key whose goal finished) never gets an earlier run's journal entry, and a continue-as-new keeps the key.
  const { workflowId, firstExecutionRunId, parent } = workflowInfo();
  const tools = state.tools!;
  const maxOutputBytes = Math.floor(OBSERVATIONS_BUDGET_BYTES / Math.max(1, checked.length));
  return Promise.all(
    checked.map(async (call): Promise<ToolObservation> => {
      if (call.kind === 'refused') return { ok: false, output: call.observation };
      const { name } = call.call;
      if (needsApproval(input.approval, name, hasSideEffects(tools, name))) {
        const wait = approvalWait(input.approval?.timeoutMs, msLeft(budget, spent(state)));
        const approval: PendingApproval = {
          callId: approvalCallId(workflowId, parent?.workflowId, state.step, call.call.id),
          subtaskId: input.subtask.id,
          tool: name,
          // A preview, as in the tool-call records: every held call travels in signals, the goal's state and its
          // `progress`, and a few 700 kB writes held at once would pass the 2 MB payload limit there.
          arguments: preview(call.call.arguments, ARGUMENTS_PREVIEW_CHARS),
          requestedAt: new Date(Date.now()).toISOString(),
          ...unknownOutcomeWarning(state, name),
          ...(wait.timeoutMs === undefined ? {} : { timeoutAt: new Date(Date.now() + wait.timeoutMs).toISOString() }),
        };
        const keys = { ...callFingerprints(call.call, input.subtask), planVersion: input.approval?.planVersion };
        const gated = await gate.ask(
          { approval, keys, timeoutMs: wait.timeoutMs, timeoutReason: wait.reason },
          knownDenials(state, input),
        );
        if (!gated.run) return { ok: false, output: gated.observation };
      }
      const mcp = mcpTarget(tools, name);
      const callKey = `${workflowId}/${firstExecutionRunId}/${state.step}/${call.call.id}`;
      const local = !mcp && LOCAL_TOOLS.has(name as ToolName);
      try {
        return await (local ? runToolLocally : runTool).executeWithOptions(
          { summary: toolCallSummary(name, call.args) },
          [{ workspace: input.workspace, call: call.call, callKey, maxOutputBytes, ...(mcp ? { mcp } : {}) }],
        );
      } catch (err) {
        if (!mcp || isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
        return { ok: false, output: toolUnavailableObservation(name, err.cause?.message ?? err.message) };
      }
    }),
  );
}

/**
 * The warning a held call carries when the latest earlier call of the same tool may have run unseen: an approver who
 * lets the model's retry through could make the side effect twice.
 */
function unknownOutcomeWarning(state: LoopState, tool: string): { warning?: string } {
  const earlier = [...state.toolCalls].reverse().find((record) => record.name === tool);
  if (!earlier?.outcomeUnknown) return {};
  return {
    warning:
      `a call of ${tool} at step ${earlier.step} (${earlier.arguments}) may already have run; check before ` +
      'approving this one',
  };
}
