/**
 * Replay fixtures: the histories of the end-to-end scenarios, saved as JSON and replayed against the current workflow
 * code by test/replay.test.ts, so a change that breaks determinism fails CI.
 *
 * Scenario tests call {@link recordGoalHistories} at their end; it writes only when `TANDEM_RECORD_HISTORIES=1`, so
 * re-recording after an intended change is `TANDEM_RECORD_HISTORIES=1 npx jest <scenario files>` (see docs/versioning.md).
 */
import type { Client } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { resolveTemporalCli } from '../../dev/temporal-cli';

export const HISTORY_FIXTURES_DIR = path.resolve(__dirname, '../fixtures/histories');

const SEPARATOR = '--';

function fixtureFileName(scenario: string, workflowId: string): string {
  return `${scenario}${SEPARATOR}${workflowId}.json`;
}

/** The workflow id a fixture was recorded under. */
export function workflowIdOfFixture(file: string): string {
  return path.basename(file, '.json').split(SEPARATOR).slice(1).join(SEPARATOR);
}

/**
 * Saves the history of a goal and of each child executor it started, as `<scenario>--<workflow id>.json`: replay
 * needs the original workflow id, because the planner derives its children's ids from its own.
 */
export async function recordGoalHistories(client: Client, scenario: string, goalId: string): Promise<void> {
  if (process.env.TANDEM_RECORD_HISTORIES !== '1') return;
  await fs.mkdir(HISTORY_FIXTURES_DIR, { recursive: true });
  const children: string[] = [];
  for await (const execution of client.workflow.list({ query: `ParentWorkflowId = '${goalId}'` })) {
    children.push(execution.workflowId);
  }
  for (const workflowId of [goalId, ...children]) {
    // The CLI's JSON export is the format historyFromJSON reads back, and what users attach to bug reports.
    const { stdout } = await promisify(execFile)(resolveTemporalCli(), [
      ...['workflow', 'show', '--workflow-id', workflowId, '--output', 'json'],
      ...['--address', process.env.TEMPORAL_ADDRESS!, '--namespace', client.options.namespace],
    ]);
    await fs.writeFile(path.join(HISTORY_FIXTURES_DIR, fixtureFileName(scenario, workflowId)), stdout);
  }
}
