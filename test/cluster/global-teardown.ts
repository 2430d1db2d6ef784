/** Stops and removes the cluster global-setup started. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export default async function globalTeardown(): Promise<void> {
  execFileSync('bash', [path.resolve(__dirname, '../../scripts/cluster.sh'), 'down', '--wipe'], { stdio: 'inherit' });
}
