import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { HISTORY_FIXTURES_DIR, workflowIdOfFixture } from './helpers/history-fixtures';
import { replayWorkerOptions } from '../worker/worker';

/**
 * Determinism guard: every recorded history replays against the current workflow code without a nondeterminism
 * error. A failure here means a change altered the commands a recorded run issued; version it with `patched()` or,
 * when the change is meant to break old runs, re-record the fixtures (docs/versioning.md).
 */
describe('replay of recorded histories', () => {
  it('replays every fixture against the current workflow code', async () => {
    const files = (await fs.readdir(HISTORY_FIXTURES_DIR)).filter((file) => file.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThan(0);
    const histories = await Promise.all(
      files.map(async (file) => ({
        workflowId: workflowIdOfFixture(file),
        history: historyFromJSON(JSON.parse(await fs.readFile(path.join(HISTORY_FIXTURES_DIR, file), 'utf8'))),
      })),
    );
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      replayWorkerOptions(process.env.TANDEM_TEST_BUNDLE!),
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});
