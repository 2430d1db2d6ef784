/**
 * `tandem dev` as a newcomer runs it: no OPENAI_BASE_URL, a port of its own. It serves the scripted demo model, says
 * how to point another terminal at it, and its first subtask is slow enough to watch from another `tandem`.
 */
import { promises as fs, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
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
    // s1 streams its answer over 15 s: long enough for a person (and this test) to see it running.
    let status = '';
    for (let tries = 0; tries < 40 && !/s1\s+running\s+1 step/.test(status); tries++) {
      status = (await runCli(['status', 'dev-1'], other)).stdout;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toMatch(/├─ s1\s+running\s+1 step/);
    expect(status).toMatch(/└─ s2\s+pending/);
    // The demo model is asked for by its own name, priced at $0: not as the default TANDEM_MODEL it never calls.
    expect(status).toMatch(/^cost: \$0$/m);

    // The owner file is how a later `tandem dev` or `demo` from this folder tells this server from a stranger's.
    const owner = path.join(stateDir, `dev-server-${port}.json`);
    expect(existsSync(owner)).toBe(true);
    expect(await dev.interrupt()).toBe(0);
    dev = undefined;
    expect(existsSync(owner)).toBe(false);
  });

  describe('never attaches to a stranger', () => {
    let listener: Server;
    let listenerPort: number;
    beforeAll(async () => {
      listener = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      listenerPort = (listener.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

    /** This jest run's Temporal server: a real Temporal, started from another state folder than the CLI's. */
    const strangerTemporal = () => Number(process.env.TEMPORAL_ADDRESS!.split(':').at(-1));

    it.each([
      ['another Temporal server, given by --port', () => ['demo', '--exit', '--port', String(strangerTemporal())], {}],
      ['another Temporal server, given by TANDEM_DEV_PORT', () => ['dev'], { port: strangerTemporal }],
      ['a program that is not Temporal', () => ['demo', '--exit', '--port', String(listenerPort)], {}],
    ])('refuses a port taken by %s, naming the flag to use', async (_what, args, fromEnv) => {
      const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-stranger-'));
      const env = {
        TANDEM_STATE_DIR: stateDir,
        TEMPORAL_ADDRESS: undefined,
        ...('port' in fromEnv ? { TANDEM_DEV_PORT: String(fromEnv.port()) } : {}),
      };
      const run = await runCli(args(), env);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^tandem: port \d+ is taken by a server tandem did not start \(another Temporal server, or another program\): tandem will not add a worker to its task queue; choose a free port with --port N/,
      );
      expect(run.stdout).not.toMatch(/worker running|goal .* started/);
    });
  });
});
