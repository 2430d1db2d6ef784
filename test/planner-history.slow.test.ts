/**
 * A planner whose history does not grow with executor steps (issue 13, point 6): a goal of 20 subtasks runs to its end on a dev server that suggests continue-as-new at 200 events, so the planner (and every executor)
 * hands over several times with its children running. Prints the planner's events per executor step, the figure
 * `npm run bench` reports (before issue 13: 4, one `subtaskProgress` signal and its workflow task per step).
 *
 * Sizes: TANDEM_LONG_SUBTASKS (default 20) and TANDEM_LONG_STEPS (default 60, so `npm test` stays within CI's time on
 * a 2-core machine; the 20 × 500 is 10,000 executor steps, about an hour there):
 *   TANDEM_LONG_SUBTASKS=20 TANDEM_LONG_STEPS=500 npx jest test/planner-history.slow.test.ts
 */
import type { Client } from '@temporalio/client';
import * as path from 'node:path';
import { progressQuery } from '../common/contract';
import type { Subtask } from '../common/types';
import { startDevServer, type DevServer } from '../dev/dev-server';
import { match, reply } from '../dev/scripted-model';
import { resultOf, startTandem, type Tandem } from './helpers/tandem';

jest.setTimeout(3_600_000);

const SUBTASKS = Number(process.env.TANDEM_LONG_SUBTASKS ?? 20);
const STEPS = Number(process.env.TANDEM_LONG_STEPS ?? 60);

/** Every run of a workflow id (a chain of continue-as-new), oldest first, with its event count. */
async function runsOf(
  client: Client,
  workflowId: string,
): Promise<Array<{ runId: string; events: number; progressSignals: number }>> {
  const runs: Array<{ runId: string; events: number; progressSignals: number; start: number }> = [];
  for await (const info of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    const events = (await client.workflow.getHandle(workflowId, info.runId).fetchHistory()).events ?? [];
    const progressSignals = events.filter(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'subtaskProgress',
    ).length;
    runs.push({ runId: info.runId, events: events.length, progressSignals, start: info.startTime.getTime() });
  }
  return runs.sort((a, b) => a.start - b.start);
}

describe('a long goal', () => {
  let server: DevServer;
  let tandem: Tandem;

  beforeAll(async () => {
    server = await startDevServer({
      port: 0,
      uiPort: 0,
      dbFile: path.join(process.env.TANDEM_TEST_STATE_DIR ?? '.', `planner-history-${Date.now()}.db`),
      headless: true,
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 200 },
    });
    // This file's jest worker talks to its own server only.
    process.env.TEMPORAL_ADDRESS = server.address;
    tandem = await startTandem();
  });
  afterAll(async () => {
    await tandem?.stop();
    await server?.stop();
  });

  it(`runs ${SUBTASKS} subtasks × ${STEPS} steps to the end through planner continue-as-new`, async () => {
    const subtasks: Subtask[] = Array.from({ length: SUBTASKS }, (_, i) => ({
      id: `s${i + 1}`,
      title: `Count ${i + 1}`,
      instructions: `Call the calculator ${STEPS - 1} times, then answer.`,
      milestone: 'answered',
      dependsOn: [],
    }));
    tandem.model
      .on(match.purpose('plan'), reply.json({ subtasks }), { repeatLast: true })
      .on(match.purpose('judge'), reply.json({ met: true, reason: 'ok' }), { repeatLast: true })
      .on(match.purpose('report'), reply.text('Report.'), { repeatLast: true })
      .on(
        match.purpose('step'),
        (req) =>
          req.messages.filter((m) => m.role === 'tool').length < STEPS - 1
            ? reply.toolCall('calculator', { expression: '1+1' })
            : reply.text('counted'),
        { repeatLast: true },
      );
    const started = Date.now();
    const handle = await tandem.startPlanner('long-goal', {
      goal: 'Count a lot',
      maxParallel: SUBTASKS,
      maxStepsPerSubtask: STEPS + 10,
    });
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const midway = (await handle.query(progressQuery)).budget.used.steps;
    const result = await resultOf(handle);
    const seconds = (Date.now() - started) / 1000;

    expect(result.ok).toBe(true);
    expect(result.subtasks.every((s) => s.status === 'done' && s.result?.steps === STEPS)).toBe(true);
    const steps = result.subtasks.reduce((sum, s) => sum + (s.result?.steps ?? 0), 0);
    const runs = await runsOf(tandem.client, handle.workflowId);
    const plannerEvents = runs.reduce((sum, run) => sum + run.events, 0);
    const perStep = plannerEvents / steps;
    const reports = runs.reduce((sum, run) => sum + run.progressSignals, 0);
    console.log(
      `planner events per executor step: ${perStep.toFixed(3)} (${plannerEvents} events in ${runs.length} runs, ` +
        `${steps} executor steps, ${SUBTASKS}×${STEPS}, ${seconds.toFixed(0)} s; ${reports} progress reports, ` +
        `${(reports / steps).toFixed(3)} per step; progress mid-run: ${midway} steps)`,
    );
    expect(runs.length).toBeGreaterThan(1);
    expect(midway).toBeGreaterThan(0);
    // Not per step: a fixed share per goal and per child, plus at most one report (~4 events) per 10 steps.
    expect(plannerEvents).toBeLessThan(100 + 60 * SUBTASKS + 0.4 * steps);
    if (STEPS >= 500) expect(perStep).toBeLessThan(0.5);
  });
});
