/**
 * `node dist/dev/cluster-setup.js ADDRESS NAMESPACE`, run by scripts/cluster.sh once the real Temporal server answers:
 * creates the namespace when missing and registers tandem's search attributes in it (the same list `tandem dev` gives
 * the dev server). Safe to run again.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureSearchAttributes } from './dev-server';
import { resolveTemporalCli } from './temporal-cli';

const execFileAsync = promisify(execFile);

/** A namespace's retention: a week, as Temporal's own samples give; a tandem goal's history is read for days. */
const RETENTION = '168h';

async function main(address: string, namespace: string): Promise<void> {
  const cli = resolveTemporalCli();
  const common = ['--address', address, '--disable-config-file', '--disable-config-env'];
  try {
    await execFileAsync(cli, [
      'operator',
      'namespace',
      'create',
      '--namespace',
      namespace,
      '--retention',
      RETENTION,
      ...common,
    ]);
  } catch (error) {
    const output = `${(error as { stderr?: string }).stderr ?? ''}${(error as Error).message}`;
    if (!/already (exists|registered)/i.test(output)) throw error;
  }
  // A new namespace reaches every frontend cache within seconds; the attributes need it there.
  for (let attempt = 0; ; attempt++) {
    try {
      await execFileAsync(cli, ['operator', 'namespace', 'describe', '--namespace', namespace, ...common]);
      break;
    } catch (error) {
      if (attempt >= 30) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
  await ensureSearchAttributes(cli, address, namespace);
}

const [address, namespace = 'default'] = process.argv.slice(2);
if (!address) {
  console.error('usage: node dist/dev/cluster-setup.js ADDRESS [NAMESPACE]');
  process.exit(2);
}
main(address, namespace).catch((error: unknown) => {
  console.error(`cluster setup failed: ${(error as Error).message}`);
  process.exit(1);
});
