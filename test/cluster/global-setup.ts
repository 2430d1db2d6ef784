/**
 * Once per `npm run test:cluster`: `scripts/cluster.sh up` in a throwaway folder, its `env` lines set for the test
 * files (separate processes inherit them), and dist/ compiled for the `tandem` processes the tests start.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** Stock ports + this offset: apart from the defaults of a cluster a developer keeps up (offset 20000). */
const PORT_OFFSET = process.env.TANDEM_CLUSTER_PORT_OFFSET ?? '23000';

export default async function globalSetup(): Promise<void> {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.cjs')], { stdio: 'inherit' });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-cluster-'));
  process.env.TANDEM_CLUSTER_DIR = dir;
  process.env.TANDEM_CLUSTER_PORT_OFFSET = PORT_OFFSET;
  const script = path.join(ROOT, 'scripts/cluster.sh');
  try {
    execFileSync('bash', [script, 'up'], { stdio: 'inherit' });
  } catch (error) {
    // No teardown runs after a failed setup: stop whatever part did start.
    execFileSync('bash', [script, 'down', '--wipe'], { stdio: 'inherit' });
    throw error;
  }
  const lines = execFileSync('bash', [script, 'env'], { encoding: 'utf8' });
  for (const [, name, value] of lines.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) process.env[name] = value;
  // The SDK's notice that its releases after January 2027 need Node 22 would be in every CLI's stderr; the pinned
  // release runs on Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.TANDEM_STATE_DIR = path.join(dir, 'test-state');
}
