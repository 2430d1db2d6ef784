/**
 * scripts/cluster.sh driven from Node: a cluster (PostgreSQL, the Temporal server, versitygw) in a throwaway folder,
 * for `npm run test:cluster` and `npm run bench -- --cluster`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findProjectRoot } from '../node/project-root';

const SCRIPT = path.join(findProjectRoot(__dirname), 'scripts/cluster.sh');

/** A running cluster: the variables a worker and the CLI need (`cluster.sh env`, plus the cluster's own settings). */
export interface LocalCluster {
  env: Record<string, string>;
  /** `cluster.sh up` again: starts only the parts that are down (after a test killed one). */
  up(): void;
  /** Stops it and removes its folder. */
  down(): void;
}

/**
 * Runs `cluster.sh up` in a new folder under the system's temp folder, with every stock port plus `portOffset`; what
 * `up` prints goes to this process's stderr. A failed `up` stops whatever part did start before throwing.
 */
export function startLocalCluster(portOffset: string): LocalCluster {
  const settings = {
    TANDEM_CLUSTER_DIR: mkdtempSync(path.join(os.tmpdir(), 'tandem-cluster-')),
    TANDEM_CLUSTER_PORT_OFFSET: portOffset,
  };
  const run = (...args: string[]) =>
    execFileSync('bash', [SCRIPT, ...args], {
      env: { ...process.env, ...settings },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
  try {
    run('up');
  } catch (error) {
    run('down', '--wipe');
    throw error;
  }
  const env: Record<string, string> = { ...settings };
  for (const [, name, value] of run('env').matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) env[name] = value;
  return { env, up: () => void run('up'), down: () => void run('down', '--wipe') };
}
