/**
 * Phase 4 of the inner loop, execution: one activity per tool call.
 *
 * A tool that throws, or arguments that fail the tool's schema, become an observation for the model (`ok: false`),
 * not an activity failure: retrying cannot fix a wrong argument, and a retry storm would hide the error from the model.
 */
import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RunnableToolName } from '../common/tools';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import type { McpCallTarget, McpToolName } from '../common/mcp';
import type { ToolCall } from '../common/types';
import { callMcpTool } from './mcp/call';
import type { ActivityDeps } from './deps';
import { workspaceDir } from '../node/workspace';
import { trimObservation } from './observations';
import { whileHeartbeating } from './heartbeat';
import { CallStream } from './event-stream';
import { fullArguments } from './large-arguments';
import { toolHandlers } from './tools';
import { readWorkspace, writeWorkspace } from './workspace-sync';
import { ToolInputError } from './tools/tool';
import {
  deliveryOf,
  isNotSentFailure,
  mayHaveRunObservation,
  mayRunAtMostOnceCall,
  recordNotSent,
  type ToolOutcome,
} from './tool-delivery';

export interface RunToolInput {
  /** Name of the goal's workspace folder. */
  workspace: string;
  call: ToolCall & { name: RunnableToolName | McpToolName };
  /**
   * The idempotency key, unique per tool call of one run: executor workflow id, the run chain's first run id (stable
   * across the executor's continue-as-new, new for every start under a reused id), step and call id.
   */
  callKey: string;
  /** Set for an MCP tool: the server and tool the model's name maps to, from the executor's recorded discovery. */
  mcp?: McpCallTarget;
  /**
   * The most bytes (as JSON) of output this call may return: the executor shares one step's observation budget among
   * the step's calls, so a reply with hundreds of calls cannot make the next model call's input too large.
   */
  maxOutputBytes?: number;
}

/** A tool call's outcome as the model sees it. */
export interface ToolObservation extends ToolOutcome {
  /** What the model sees: trimmed to `TANDEM_OBSERVATION_LIMIT` characters, with a note, when longer. */
  output: string;
  /** Content-store reference of the full output when `output` was trimmed. */
  outputRef?: string;
  /**
   * Side-effecting calls only: content-store reference of the workspace manifest after the call (path → content
   * reference, activities/workspace-sync.ts), so the files at every step are known.
   */
  workspaceRef?: string;
}

/** Defined in node/ so the CLI can name a goal's folder without loading the tools. */
export { workspaceDir };

/**
 * Side-effecting tool results, recorded by call key in the store every worker shares, so a retried activity (on this
 * worker or another) whose earlier attempt finished the call but not the activity replays the record instead of
 * acting. Without a record, the call's delivery decides (activities/tool-delivery.ts). The first record written wins.
 */
function journalKey(callKey: string): string {
  return `tool-calls/${createHash('sha256').update(callKey).digest('hex')}.json`;
}

async function readJournal(deps: ActivityDeps, callKey: string): Promise<ToolObservation | undefined> {
  const bytes = await deps.store.objects.read(journalKey(callKey));
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as ToolObservation);
}

async function writeJournal(deps: ActivityDeps, callKey: string, observation: ToolObservation): Promise<void> {
  await deps.store.objects.create(journalKey(callKey), { bytes: Buffer.from(JSON.stringify(observation)) });
}

function describeSchemaError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(arguments)'}: ${issue.message}`).join('; ');
}

/** The call's whole arguments (read back from the store when they went by reference) as a JSON object. */
async function argumentsObject(
  deps: ActivityDeps,
  input: RunToolInput,
): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; output: string }> {
  let args: unknown;
  try {
    args = JSON.parse((await fullArguments(deps.store, input.call)) || '{}');
  } catch (err) {
    return { ok: false, output: `arguments are not valid JSON (${(err as Error).message}); send a JSON object` };
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { ok: false, output: 'arguments are not a JSON object; send a JSON object' };
  }
  return { ok: true, value: args as Record<string, unknown> };
}

/**
 * What a call in flight shows in its heartbeat details (`temporal workflow describe`): the latest MCP progress
 * notification. Kept here, read at each heartbeat, so the periodic heartbeat does not blank it.
 */
interface LiveCall {
  progress?: Progress;
}

async function execute(deps: ActivityDeps, input: RunToolInput, dir: string, live: LiveCall): Promise<ToolOutcome> {
  if (input.mcp) return executeMcp(deps, input, input.mcp, dir, live);
  const { definition: tool, execute: run } = toolHandlers[input.call.name as RunnableToolName];
  const args = await argumentsObject(deps, input);
  if (!args.ok) return args;
  const parsed = tool.input.safeParse(args.value);
  if (!parsed.success) {
    return {
      ok: false,
      output: `arguments do not match the ${tool.name} schema: ${describeSchemaError(parsed.error)}`,
    };
  }
  try {
    const output = await run(parsed.data, {
      workspaceDir: dir,
      signal: Context.current().cancellationSignal,
      config: deps.config,
    });
    return { ok: true, output };
  } catch (err) {
    const kind = err instanceof ToolInputError ? 'refused' : 'failed';
    return { ok: false, output: `${tool.name} ${kind}: ${(err as Error).message}` };
  }
}

/** An MCP call: the arguments must be a JSON object; the server checks them against its own schema. */
async function executeMcp(
  deps: ActivityDeps,
  input: RunToolInput,
  target: McpCallTarget,
  dir: string,
  live: LiveCall,
): Promise<ToolOutcome> {
  const args = await argumentsObject(deps, input);
  if (!args.ok) return args;
  const { info } = Context.current();
  return callMcpTool(deps.mcp, deps.config.mcp, {
    name: input.call.name,
    target,
    arguments: args.value,
    workspaceDir: dir,
    signal: Context.current().cancellationSignal,
    maxTotalMs: Math.max(1_000, info.startToCloseTimeoutMs - ACTIVITY_MARGIN_MS),
    // A progress notification is a sign of life: the SDK restarts the request's timeout, and the next heartbeat
    // carries it to Temporal.
    onProgress: (progress) => {
      live.progress = progress;
    },
  });
}

/** Time kept back from the activity's start-to-close limit, so an MCP call ends as an observation before it. */
const ACTIVITY_MARGIN_MS = 5_000;

async function observe(deps: ActivityDeps, input: RunToolInput, dir: string, live: LiveCall): Promise<ToolObservation> {
  const { output, ...outcome } = await execute(deps, input, dir, live);
  return {
    ...outcome,
    ...(await trimObservation(output, deps.config.observationLimit, deps.store, { maxBytes: input.maxOutputBytes })),
  };
}

/**
 * Runs one tool call in the goal's workspace, materialised from the store (activities/workspace-sync.ts), at most once
 * or at least once as its delivery says (activities/tool-delivery.ts). A side-effecting call's observation carries
 * `workspaceRef`, the files after the call, and is journalled by call key last: a worker killed between storing the
 * files and the journal leaves a retry that follows the call's delivery, as a worker killed mid-call does.
 */
export async function runTool(deps: ActivityDeps, input: RunToolInput): Promise<ToolObservation> {
  // The call's start and end in the live event stream (docs/stream.md). The call key ends `/<step>/<call id>`.
  const live = new CallStream(deps.config.liveStream ? deps.store.objects : undefined);
  const step = Number(input.callKey.split('/').at(-2));
  const call = { callId: input.call.id, name: input.call.name, ...(Number.isInteger(step) ? { step } : {}) };
  live.push({ ...live.ref, type: 'tool-start', ...call });
  try {
    const observation = await runToolOnce(deps, input);
    live.push({ ...live.ref, type: 'tool-end', ...call, ok: observation.ok });
    return observation;
  } finally {
    await live.flush();
  }
}

async function runToolOnce(deps: ActivityDeps, input: RunToolInput): Promise<ToolObservation> {
  const tool = input.mcp ?? toolHandlers[input.call.name as RunnableToolName].definition;
  const target = { store: deps.store, workspaceRoot: deps.config.workspaceRoot, workspace: input.workspace };
  const live: LiveCall = {};
  const heartbeatDetails = () => live.progress && { progress: live.progress };
  if (!tool.sideEffects) {
    return whileHeartbeating(() => readWorkspace(target, (dir) => observe(deps, input, dir, live)), heartbeatDetails);
  }
  const recorded = await readJournal(deps, input.callKey);
  if (recorded) return recorded;
  const run = async (): Promise<ToolObservation> => {
    const { value, workspaceRef } = await whileHeartbeating(
      () => writeWorkspace(target, input.callKey, (dir) => observe(deps, input, dir, live)),
      heartbeatDetails,
    );
    const observation = { ...value, workspaceRef };
    await writeJournal(deps, input.callKey, observation);
    return observation;
  };
  if (deliveryOf(tool) === 'repeatable') return run();
  if (!mayRunAtMostOnceCall(input.callKey)) {
    const { attempt } = Context.current().info;
    return {
      ok: false,
      output: mayHaveRunObservation(
        input.call.name,
        `attempt ${attempt - 1} of this call was lost before it reported an outcome (its worker stopped or it timed out)`,
      ),
      outcomeUnknown: true,
    };
  }
  try {
    return await run();
  } catch (err) {
    if (isNotSentFailure(err)) recordNotSent(input.callKey);
    throw err;
  }
}
