/**
 * The Web UI tells the story: a real browser (Debian's chromium, driven by playwright-core) opens the test dev
 * server's Web UI, finds a finished goal through tandem's search attributes, and reads the summaries of its child
 * executors and of their activities. Screenshots land in .tandem/screenshots/ (ignored by git).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { scriptDemo } from '../dev/demo-model';
import { startGoal } from '../client/goals';
import { progressQuery } from '../common/contract';
import { match, reply } from '../dev/scripted-model';
import { resultOf, startTandem, type Tandem } from './helpers/tandem';

/** Debian's package; CI installs it in .ci/run (no browser download: only package registries are reachable). */
const CHROMIUM = '/usr/bin/chromium';
/** Without the background-networking flags chromium keeps dialling Google's hosts, which a closed network refuses. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-gpu',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SCREENSHOTS = path.resolve(__dirname, '../.tandem/screenshots');
/** The UI renders the timeline after its first fetches; generous, for a loaded CI machine. */
const UI_TIMEOUT_MS = 30_000;

/** The visible status badge of a workflow's page (the Web UI also keeps hidden texts such as "Failed to fetch"). */
function statusBadge(page: Page, status: string) {
  return page
    .getByText(new RegExp(`^${status}$`, 'i'))
    .filter({ visible: true })
    .first();
}

describe('the Temporal Web UI shows a goal', () => {
  let tandem: Tandem;
  let browser: Browser;
  let page: Page;
  const ui = process.env.TANDEM_TEST_UI_URL;

  beforeAll(async () => {
    if (!ui) throw new Error('TANDEM_TEST_UI_URL is empty: the test dev server was started without its Web UI');
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with apt-get install -y chromium`);
    tandem = await startTandem();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await tandem?.stop();
  });

  it('finds a finished goal by search attribute, with its child executors and activity summaries', async () => {
    scriptDemo(tandem.model);
    const key = `ui-${randomUUID().slice(0, 6)}`;
    const handle = await startGoal(tandem.client, {
      goal: 'Compute 17 * 23 + 4 and save it',
      key,
      taskQueue: tandem.taskQueue,
    });
    expect((await resultOf(handle)).ok).toBe(true);
    const id = handle.workflowId;

    // The list, filtered by the TandemKey search attribute the goal was started with.
    const query = encodeURIComponent(`TandemKey="${key}"`);
    await page.goto(`${ui}/namespaces/default/workflows?query=${query}`);
    await page.getByRole('link', { name: id, exact: true }).first().click();

    // The planner: completed, a timeline bar per child executor (its summary) and per model call (the activity's).
    await page.getByText('COMPLETED').first().waitFor();
    for (const summary of ['s1 · Compute the value', 's2 · Save the result', 'plan v1', 'final report']) {
      await page.getByText(summary).first().waitFor();
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'planner.png') });

    // Its current details: a table with one header per column (the UI pads no cells, so tandem's own spacing keeps
    // "status" and "steps" apart), carrying the figures of the progress query.
    await page.getByText('User Metadata').first().click();
    const details = page.frameLocator('#user-metadata-current-details');
    await details.locator('table').waitFor();
    const trimmed = (texts: string[]) => texts.map((text) => text.trim());
    expect(trimmed(await details.locator('th').allInnerTexts())).toEqual([
      'subtask',
      'status',
      'steps',
      'tokens',
      'milestone',
    ]);
    const progress = await tandem.client.workflow.getHandle(id).query(progressQuery);
    for (const [index, subtask] of progress.subtasks.entries()) {
      const cells = trimmed(await details.locator('tbody tr').nth(index).locator('td').allInnerTexts());
      expect(cells).toEqual([
        `${subtask.id} · ${subtask.title}`,
        'done',
        String(subtask.steps),
        String(subtask.tokens),
        'met',
      ]);
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'details.png') });

    // The planner's children, one per subtask, under Relationships.
    await page.goto(`${ui}/namespaces/default/workflows/${id}/${handle.firstExecutionRunId}/relationships`);
    for (const subtask of ['s1', 's2']) await page.getByText(`${id}.v1.${subtask}`).first().waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'relationships.png') });

    // An executor: its parent, a summary for every LLM step, and the calculator's call (a local activity, which the
    // Web UI names by its activity type without a summary).
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(`${id}.v1.s1`)}`);
    await page.getByText('executorWorkflow').first().waitFor();
    for (const summary of ['LLM step 1', 'runTool', 'LLM step 2']) {
      await page.getByText(summary).first().waitFor();
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'executor.png') });
  });

  it("shows each goal's outcome as its status: failed red, cancelled, ok green, and why one failed while planning", async () => {
    // Four goals under one id prefix, so the filtered list shows them together: the rules for the goals that must not
    // end ok come first (the first rule that matches answers).
    const prefix = `ui-end-${randomUUID().slice(0, 6)}`;
    tandem.model.reset();
    tandem.model.on(match.and(match.purpose('plan'), match.userContains('Refused goal')), reply.error(401, 'Bad key'), {
      repeatLast: true,
    });
    scriptDemo(tandem.model);
    const start = (suffix: string, goal: string, extra: { maxTokens?: number } = {}) =>
      startGoal(tandem.client, { goal, id: `${prefix}-${suffix}`, taskQueue: tandem.taskQueue, ...extra });
    const ok = await start('ok', 'Compute 17 * 23 + 4 and save it');
    const budget = await start('budget', 'Compute 17 * 23 + 4 and save it', { maxTokens: 1 });
    const refused = await start('refused', 'Refused goal');
    expect((await resultOf(ok)).ok).toBe(true);
    expect(await resultOf(budget)).toEqual(expect.objectContaining({ ok: false, reason: 'budget_exhausted' }));
    await expect(refused.result()).rejects.toThrow();

    tandem.model.reset();
    tandem.model.on(match.purpose('step', 's1'), reply.slow(60_000, reply.text('never')), { repeatLast: true });
    scriptDemo(tandem.model);
    const cancelled = await start('cancelled', 'Compute 17 * 23 + 4 and save it');
    await tandem.model.waitForRequests(1, { match: match.purpose('step', 's1'), timeoutMs: 30_000 });
    await cancelled.cancel();
    expect(await resultOf(cancelled)).toEqual(expect.objectContaining({ ok: false, reason: 'cancelled' }));

    // The list: each row's status badge is the outcome.
    const query = encodeURIComponent(`WorkflowType="plannerWorkflow" AND WorkflowId STARTS_WITH "${prefix}"`);
    await page.goto(`${ui}/namespaces/default/workflows?query=${query}`);
    const expected: Array<[string, string]> = [
      [ok.workflowId, 'Completed'],
      [budget.workflowId, 'Failed'],
      [refused.workflowId, 'Failed'],
      [cancelled.workflowId, 'Canceled'],
    ];
    for (const [id, status] of expected) {
      const row = page.locator('tr', { has: page.getByRole('link', { name: id, exact: true }) }).first();
      await row.waitFor();
      expect((await row.innerText()).toLowerCase()).toContain(status.toLowerCase());
    }
    // The counts above the list, in the Web UI's own colours: one green, two red, one grey.
    for (const count of ['1 Completed', '2 Failed', '1 Canceled']) {
      await page
        .getByText(new RegExp(`^${count}$`, 'i'))
        .filter({ visible: true })
        .first()
        .waitFor();
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'outcomes-list.png') });

    // The failures, as the list's `Failures` view filters them (ExecutionStatus = Failed): the two that did not end ok.
    const failures = encodeURIComponent(`ExecutionStatus="Failed" AND WorkflowId STARTS_WITH "${prefix}"`);
    await page.goto(`${ui}/namespaces/default/workflows?query=${failures}`);
    for (const id of [budget.workflowId, refused.workflowId]) {
      await page.getByRole('link', { name: id, exact: true }).first().waitFor();
    }
    expect(await page.getByRole('link', { name: ok.workflowId, exact: true }).count()).toBe(0);
    expect(await page.getByRole('link', { name: cancelled.workflowId, exact: true }).count()).toBe(0);

    // The list filtered by tandem's own attribute (the example: two of its three rows were green): every row is red.
    const tandemFailed = encodeURIComponent(`TandemStatus="failed" AND WorkflowId STARTS_WITH "${prefix}"`);
    await page.goto(`${ui}/namespaces/default/workflows?query=${tandemFailed}`);
    for (const id of [budget.workflowId, refused.workflowId]) {
      const row = page.locator('tr', { has: page.getByRole('link', { name: id, exact: true }) }).first();
      await row.waitFor();
      expect((await row.innerText()).toLowerCase()).toContain('failed');
    }
    await page
      .getByText(/^2 Failed$/i)
      .filter({ visible: true })
      .first()
      .waitFor();
    expect(
      await page
        .getByText(/^[1-9]\d* Completed$/i)
        .filter({ visible: true })
        .count(),
    ).toBe(0);

    // A goal that ended not ok: Failed, its failure the GoalNotOk with the ending, its details saying how it ended.
    await page.goto(`${ui}/namespaces/default/workflows/${budget.workflowId}/${budget.firstExecutionRunId}`);
    await statusBadge(page, 'Failed').waitFor();
    await page.getByText('the goal ended failed (budget_exhausted)').first().waitFor();
    await page.getByText('User Metadata').first().click();
    const budgetDetails = page.frameLocator('#user-metadata-current-details');
    await budgetDetails.getByText('Ended: failed (budget_exhausted)').first().waitFor();
    expect(await budgetDetails.locator('p').first().innerText()).toMatch(/^Ended: failed \(budget_exhausted\)/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'failed-goal.png') });

    // A goal that failed while planning: the first line of its details says so, which call failed and with what.
    await page.goto(`${ui}/namespaces/default/workflows/${refused.workflowId}/${refused.firstExecutionRunId}`);
    await statusBadge(page, 'Failed').waitFor();
    await page.getByText('User Metadata').first().click();
    const planning = page.frameLocator('#user-metadata-current-details');
    await planning.getByText('no plan yet').first().waitFor();
    expect(await planning.locator('p').first().innerText()).toMatch(
      /^Ended: failed: callModel failed: .*HTTP 401.*\[ModelRequestRejected\]/,
    );
    await page.screenshot({ path: path.join(SCREENSHOTS, 'failed-while-planning.png') });

    // A cancelled goal: Canceled, and so is its child under Relationships.
    await page.goto(`${ui}/namespaces/default/workflows/${cancelled.workflowId}/${cancelled.firstExecutionRunId}`);
    await statusBadge(page, 'Canceled').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'cancelled-goal.png') });
    await page.goto(
      `${ui}/namespaces/default/workflows/${cancelled.workflowId}/${cancelled.firstExecutionRunId}/relationships`,
    );
    await page.getByText(`${cancelled.workflowId}.v1.s1`).first().waitFor();
    // Three Canceled badges: the page's, the planner's row and its child executor's row.
    await page
      .getByText(/^canceled$/i)
      .filter({ visible: true })
      .nth(2)
      .waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'cancelled-relationships.png') });
  });
});
