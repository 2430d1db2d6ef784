/**
 * The activity stubs shared by both workflows, with their timeouts and retry policies in one place.
 * Activities are imported as types only: their code runs in the worker, never in the workflow sandbox.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { TandemActivities } from '../activities';

/**
 * Model calls: a 5-minute ceiling per attempt (slow local models); a 10-second heartbeat timeout, because a cancel only
 * reaches the activity in a heartbeat response and the worker throttles heartbeats to 80% of this timeout, so a
 * cancelled or timed-out call is aborted within about 8 seconds. 429 and 5xx back off (after a Retry-After); eight
 * attempts in all, so an endpoint that stays down ends the subtask (`model_error`) instead of stalling it for good.
 * Rejections (4xx) are non-retryable at the source.
 */
export const { callModel } = proxyActivities<TandemActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});

/**
 * Tool calls: tool errors come back as observations, so a failure here is infrastructure (a lost worker, a full disk)
 * and a few retries are right. Side-effecting tools are idempotent per call key, which makes the retry safe.
 */
export const { runTool } = proxyActivities<TandemActivities>({
  startToCloseTimeout: '2 minutes',
  // Heartbeats every 2 s (activities/heartbeat.ts): a worker that dies mid-tool is noticed in 10 s, not 2 minutes.
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * Short tools without side effects (the calculator) run as a local activity: in the worker that runs the workflow
 * task, recorded as one marker event, with no round trip through the server's task queue. That saves a workflow task
 * and five history events per step. If the worker dies mid-call, the workflow task times out and the next worker runs
 * it again, which is harmless for a pure function; anything
 * slow, or with side effects, stays a regular activity (a local activity holds the workflow task while it runs).
 */
export const { runTool: runToolLocally } = proxyLocalActivities<TandemActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * Milestone checks read the workspace only (no side effects), so retrying is always safe; a minute is ample for a
 * few file reads, and a failure past the retries is lost infrastructure, not a missed milestone.
 */
export const { checkMilestone } = proxyActivities<TandemActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * Local file-system set-up (one `mkdir`; for a fork, writing its first workspace generation from the original's
 * manifest): short, and retried until the worker's disk and the store answer.
 */
export const { prepareWorkspace, seedWorkspace } = proxyActivities<TandemActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * MCP discovery, once at the start of an executor run: starting a stdio server (an `npx` download, a cold `node`) can
 * take a while, hence the minute. A server that fails is reported in the result, not thrown, so retries are for the
 * worker itself being lost.
 */
export const { discoverTools } = proxyActivities<TandemActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
});

/**
 * The price table, read once at a goal's start: one small file read, so a local activity (one marker event, no round
 * trip); a broken price file fails non-retryably at the source.
 */
export const { loadPrices } = proxyLocalActivities<TandemActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
});
