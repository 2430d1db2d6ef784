/**
 * Once per `jest` run: a real Temporal dev server on free ports with a throwaway database, and the workflow bundle
 * built once. Test files (separate processes) find both through the env vars set here.
 */
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDevServer, type DevServer } from '../../dev/dev-server';
import { WORKFLOWS_PATH } from '../../worker/worker';

declare global {
  var tandemDevServer: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  // The CLI tests run bin/tandem.cjs, which runs dist/: compile the sources as they are now (well under a second).
  execFileSync(process.execPath, [path.resolve(__dirname, '../../scripts/build.cjs')], { stdio: 'inherit' });
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-test-'));
  const server = await startDevServer({
    port: 0,
    uiPort: 0,
    dbFile: path.join(stateDir, 'temporal.db'),
  });
  globalThis.tandemDevServer = server;
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const bundlePath = path.join(stateDir, 'workflow-bundle.js');
  await fs.writeFile(bundlePath, bundle.code);
  process.env.TANDEM_TEST_STATE_DIR = stateDir;
  process.env.TANDEM_TEST_BUNDLE = bundlePath;
  process.env.TANDEM_TEST_UI_URL = server.uiUrl ?? '';
  process.env.TEMPORAL_ADDRESS = server.address;
  // The CLI's status and list read over the HTTP API, as after `tandem dev`; test/cli-read-paths.test.ts holds the
  // gRPC way to the same output.
  process.env.TEMPORAL_HTTP_ADDRESS = server.httpAddress ?? '';
  process.env.TEMPORAL_NAMESPACE = 'default';
  process.env.TANDEM_STATE_DIR = stateDir;
}
