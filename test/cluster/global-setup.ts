/**
 * Once per `npm run test:cluster`: `scripts/cluster.sh up` in a throwaway folder, its `env` lines set for the test
 * files (separate processes inherit them), and dist/ compiled for the `tandem` processes the tests start.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { startLocalCluster } from '../../dev/local-cluster';

const ROOT = path.resolve(__dirname, '../..');

/** Stock ports + this offset: apart from the defaults of a cluster a developer keeps up (offset 20000). */
const PORT_OFFSET = process.env.TANDEM_CLUSTER_PORT_OFFSET ?? '23000';

export default async function globalSetup(): Promise<void> {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.cjs')], { stdio: 'inherit' });
  const cluster = startLocalCluster(PORT_OFFSET);
  Object.assign(process.env, cluster.env);
  // The SDK's notice that its releases after January 2027 need Node 22 would be in every CLI's stderr; the pinned
  // release runs on Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.TANDEM_STATE_DIR = path.join(cluster.env.TANDEM_CLUSTER_DIR, 'test-state');
}
