/**
 * The activities the worker registers, built from injected settings and store: a worker in tests, in `tandem dev` or
 * in a container gets its configuration passed in, never by mutating `process.env`. Workflows import
 * {@link TandemActivities} as a type only (workflows/activity-stubs.ts).
 */
import type { CheckMilestoneInput, CheckOutcome } from '../common/checks';
import type { CallModelInput, CallModelOutput } from '../common/types';
import { loadConfig, type TandemConfig } from '../node/config';
import { callModel } from './call-model';
import { checkMilestone } from './check-milestone';
import { contentStore, type ObjectContentStore } from './content-store';
import type { ActivityDeps } from './deps';
import { discoverMcpTools } from './mcp/discovery';
import { checkoutWorkspace, seedWorkspace } from './workspace-sync';
import { whileHeartbeating } from './heartbeat';
import { McpPool } from './mcp/pool';
import { type LoadedPrices, loadPrices } from './prices';
import { runTool, type RunToolInput, type ToolObservation, workspaceDir } from './run-tool';
import type { ToolDiscovery } from '../common/mcp';
import { traceModelCall, traceToolCall, type Tracing } from './tracing';

/** What `discoverTools` is asked: the workspace whose per-workspace servers (`${workspace}`) answer. */
export interface DiscoverToolsInput {
  workspace: string;
}

/** What `seedWorkspace` is asked: the fork's workspace and the manifest it starts from. */
export interface SeedWorkspaceInput {
  workspace: string;
  manifestRef: string;
}

/**
 * Builds the activities. The names of the returned functions are the activity type names on the wire (`callModel`,
 * `runTool`, `checkMilestone`): renaming one strands runs in flight.
 */
export function createActivities(
  config: TandemConfig = loadConfig(),
  store: ObjectContentStore = contentStore(config.store),
  mcp: McpPool = new McpPool(() => config.mcp),
  tracing?: Tracing,
) {
  const deps: ActivityDeps = { config, store, mcp, ...(tracing ? { tracing } : {}) };
  return {
    /** Phase 2 of both loops: one model call (activities/call-model.ts). */
    callModel: (input: CallModelInput): Promise<CallModelOutput> =>
      traceModelCall(deps, input, () => callModel(deps, input)),
    /** Phase 4 of the executor: one tool call (activities/run-tool.ts). */
    runTool: (input: RunToolInput): Promise<ToolObservation> => traceToolCall(deps, input, () => runTool(deps, input)),
    /** The planner's machine check of a milestone, before the judge (activities/check-milestone.ts). */
    checkMilestone: (input: CheckMilestoneInput): Promise<CheckOutcome[]> => checkMilestone(deps, input),
    /**
     * The planner, once per goal: checks the goal's workspace out (from the store, where a restarted goal left it) and
     * returns its absolute path on this worker (for `progress`).
     */
    prepareWorkspace: (workspace: string): Promise<string> =>
      checkoutWorkspace({ store, workspaceRoot: deps.config.workspaceRoot, workspace }),
    /**
     * A fork's start, once: its workspace's first generation is the original's manifest at the fork's step (nothing
     * is copied: the files are content the store already holds), checked out here; returns the path as above.
     */
    seedWorkspace: ({ workspace, manifestRef }: SeedWorkspaceInput): Promise<string> =>
      seedWorkspace({ store, workspaceRoot: deps.config.workspaceRoot, workspace }, manifestRef),
    /** A goal's start, once: the price table its model calls are priced by, and the models it will call. */
    loadPrices: (): Promise<LoadedPrices> => loadPrices(config),
    /** Start of an executor run: the MCP tools the worker's servers offer (activities/mcp/discovery.ts). */
    discoverTools: ({ workspace }: DiscoverToolsInput): Promise<ToolDiscovery> =>
      whileHeartbeating(() => discoverMcpTools(mcp, config.mcp, workspaceDir(config.workspaceRoot, workspace), store)),
  };
}

export type TandemActivities = ReturnType<typeof createActivities>;
