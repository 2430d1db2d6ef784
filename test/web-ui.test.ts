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
import { startTandem, type Tandem } from './helpers/tandem';

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
    expect((await handle.result()).ok).toBe(true);
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

    // An executor: its parent, and a summary for every LLM step and tool call.
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(`${id}.v1.s1`)}`);
    await page.getByText('executorWorkflow').first().waitFor();
    for (const summary of ['LLM step 1', 'calculator 17 * 23 + 4', 'LLM step 2']) {
      await page.getByText(summary).first().waitFor();
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'executor.png') });
  });
});
