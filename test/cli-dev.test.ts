/**
 * `tandem dev` as a newcomer runs it: no OPENAI_BASE_URL, a port of its own. It serves the scripted demo model, says
 * how to point another terminal at it, and its first subtask is slow enough to watch from another `tandem`.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../dev/dev-server';
import { runCli, spawnCli, type CliProcess } from './helpers/cli';

describe('tandem dev', () => {
  let dev: CliProcess | undefined;
  afterAll(async () => {
    await dev?.interrupt();
  });

  it('runs the scripted demo model on a non-default port and prints the export line for another terminal', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-dev-'));
    const env = { TANDEM_STATE_DIR: stateDir, OPENAI_BASE_URL: undefined, TEMPORAL_ADDRESS: undefined };
    dev = spawnCli(['dev', '--port', String(port), '--ui-port', String(uiPort)], env);
    await dev.waitForLine(/^worker running/, 90_000);
    expect(dev.lines).toContain(
      `in another terminal, point tandem at it with: export TEMPORAL_ADDRESS=127.0.0.1:${port}`,
    );
    expect(dev.lines.join('\n')).toMatch(/No OPENAI_BASE_URL set: the worker uses the scripted demo model/);

    const other = { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` };
    expect((await runCli(['start', 'Compute 17 * 23 + 4 and save it', '--id', 'dev-1'], other)).code).toBe(0);
    // s1 answers after 15 s: long enough for a person (and this test) to see it running.
    let status = '';
    for (let tries = 0; tries < 40 && !/s1\s+running\s+1 step/.test(status); tries++) {
      status = (await runCli(['status', 'dev-1'], other)).stdout;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toMatch(/├─ s1\s+running\s+1 step/);
    expect(status).toMatch(/└─ s2\s+pending/);

    expect(await dev.interrupt()).toBe(0);
    dev = undefined;
  });
});
