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
import { contentStore, type ContentStore } from './content-store';
import type { ActivityDeps } from './deps';
import { promises as fs } from 'node:fs';
import { discoverMcpTools } from './mcp/discovery';
import { whileHeartbeating } from './heartbeat';
import { McpPool } from './mcp/pool';
import { runTool, type RunToolInput, type ToolObservation, workspaceDir } from './run-tool';
import type { ToolDiscovery } from '../common/mcp';

/** What `discoverTools` is asked: the workspace whose per-workspace servers (`${workspace}`) answer. */
export interface DiscoverToolsInput {
  workspace: string;
}

/**
 * Builds the activities. The names of the returned functions are the activity type names on the wire (`callModel`,
 * `runTool`, `checkMilestone`): renaming one strands runs in flight.
 */
export function createActivities(
  config: TandemConfig = loadConfig(),
  store: ContentStore = contentStore(config.storeDir),
  mcp: McpPool = new McpPool(() => config.mcp),
) {
  const deps: ActivityDeps = { config, store, mcp };
  return {
    /** Phase 2 of both loops: one model call (activities/call-model.ts). */
    callModel: (input: CallModelInput): Promise<CallModelOutput> => callModel(deps, input),
    /** Phase 4 of the executor: one tool call (activities/run-tool.ts). */
    runTool: (input: RunToolInput): Promise<ToolObservation> => runTool(deps, input),
    /** The planner's machine check of a milestone, before the judge (activities/check-milestone.ts). */
    checkMilestone: (input: CheckMilestoneInput): Promise<CheckOutcome[]> => checkMilestone(deps, input),
    /** The planner, once per goal: creates the goal's workspace and returns its absolute path (for `progress`). */
    prepareWorkspace: async (workspace: string): Promise<string> => {
      const dir = workspaceDir(deps.config.workspaceRoot, workspace);
      await fs.mkdir(dir, { recursive: true });
      return dir;
    },
    /** Start of an executor run: the MCP tools the worker's servers offer (activities/mcp/discovery.ts). */
    discoverTools: ({ workspace }: DiscoverToolsInput): Promise<ToolDiscovery> =>
      whileHeartbeating(() => discoverMcpTools(mcp, config.mcp, workspaceDir(config.workspaceRoot, workspace), store)),
  };
}

export type TandemActivities = ReturnType<typeof createActivities>;
