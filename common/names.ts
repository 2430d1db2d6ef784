/**
 * The wire names the CLI's read verbs need (workflow types, the progress query, search attributes), as plain strings:
 * common/contract.ts defines the typed messages and keys from them, and the CLI's HTTP read path (client/http-reader.ts)
 * uses them without loading the SDK or zod. Renaming one strands runs already in flight.
 */

/** Workflow type names, as clients start them by name (`temporal workflow start --type plannerWorkflow`). */
export const PLANNER_WORKFLOW_TYPE = 'plannerWorkflow';
export const EXECUTOR_WORKFLOW_TYPE = 'executorWorkflow';

/** The query both the planner and the executor answer with their progress. */
export const PROGRESS_QUERY_NAME = 'progress';

/** tandem's search attributes, by name, with the type each is registered as. */
export const SEARCH_ATTRIBUTE_NAMES = {
  goal: 'TandemGoal',
  status: 'TandemStatus',
  planVersion: 'TandemPlanVersion',
  tokens: 'TandemTokens',
  key: 'TandemKey',
} as const;

/** The memo key that holds the result of a run that ended as Canceled (common/endings.ts). */
export const RESULT_MEMO_KEY = 'tandemResult';

/**
 * The memo key that holds a closed run's final `progress` (workflows/ending.ts), which `status` reads instead of
 * asking the query; absent while the run is open.
 */
export const PROGRESS_MEMO_KEY = 'tandemProgress';

/** The largest final progress (JSON bytes) a run writes to its memo; a larger one is answered by the query only. */
export const PROGRESS_MEMO_BYTES = 32 * 1024;
