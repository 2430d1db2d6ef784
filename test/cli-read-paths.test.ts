/**
 * `status` and `list` read over Temporal's HTTP API when `TEMPORAL_HTTP_ADDRESS` names it, and over gRPC otherwise
 * (client/commands/shared.ts `overHttp`): both ways print the same bytes and exit with the same code, for every ending
 * and every error a user meets, and the HTTP way loads no Temporal SDK at all, which is what makes it fast.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { executorProgressQuery, progressQuery } from '../common/contract';
import { PROGRESS_MEMO_KEY, PROGRESS_QUERY_NAME } from '../common/names';
import { grpcReader } from '../client/grpc-reader';
import { httpReader } from '../client/http-reader';
import { connectClient, temporalSettings } from '../node/connection';
import { scriptDemo } from '../dev/demo-model';
import { freePort } from '../dev/dev-server';
import { match, reply } from '../dev/scripted-model';
import { runCli, type CliRun } from './helpers/cli';
import { startTandem, type Tandem } from './helpers/tandem';

const HTTP_ADDRESS = process.env.TEMPORAL_HTTP_ADDRESS!;

describe('status and list over the HTTP API and over gRPC', () => {
  let tandem: Tandem;
  /** Set once the last test has stopped the worker, so that afterAll does not stop it twice. */
  let workerStopped = false;
  let env: Record<string, string>;
  let dir: string;
  let recorder: string;
  /** Every goal of this file starts with it, so `list --query` sees only them. */
  const prefix = `rp${randomUUID().slice(0, 6)}`;
  const ids: Record<string, string> = {};

  /** Runs `args` both ways; the HTTP run records the modules it loaded. */
  async function bothWays(args: string[]): Promise<{ http: CliRun; grpc: CliRun; loaded: string[] }> {
    const file = path.join(dir, `${randomUUID()}.txt`);
    const http = await runCli(args, {
      ...env,
      TEMPORAL_HTTP_ADDRESS: HTTP_ADDRESS,
      NODE_OPTIONS: `--require ${recorder}`,
      LOADED_MODULES_FILE: file,
    });
    const grpc = await runCli(args, { ...env, TEMPORAL_HTTP_ADDRESS: '' });
    return { http, grpc, loaded: (await fs.readFile(file, 'utf8')).split('\n') };
  }

  /** The two ways agree, and the HTTP way did not fall back to the SDK. */
  async function expectSameOverHttp(args: string[]): Promise<CliRun> {
    const { http, grpc, loaded } = await bothWays(args);
    expect(http).toEqual(grpc);
    // Nor envconfig, with no config file and no TEMPORAL_* variable but the address and namespace (node/target-check.ts).
    expect(loaded.filter((module) => /node_modules\/@temporalio\/(client|proto|envconfig)\//.test(module))).toEqual([]);
    return http;
  }

  beforeAll(async () => {
    expect(HTTP_ADDRESS).toMatch(/^127\.0\.0\.1:\d+$/);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-read-paths-'));
    recorder = path.join(dir, 'record-modules.cjs');
    await fs.writeFile(
      recorder,
      "process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_MODULES_FILE, " +
        "Object.keys(require.cache).join('\\n')));\n",
    );
    tandem = await startTandem();
    env = { TANDEM_TASK_QUEUE: tandem.taskQueue };

    scriptDemo(tandem.model);
    ids.ok = tandem.goalId(`${prefix}-ok`);
    expect((await runCli(['start', 'Compute and save', '--id', ids.ok, '--wait'], env)).code).toBe(0);
    ids.budget = tandem.goalId(`${prefix}-budget`);
    const budget = await runCli(['start', 'Compute', '--id', ids.budget, '--max-goal-tokens', '10', '--wait'], env);
    expect(budget.code).toBe(2);

    tandem.model.reset();
    tandem.model.on(match.purpose('plan'), reply.error(401, 'Incorrect API key provided'), { repeatLast: true });
    ids.planning = tandem.goalId(`${prefix}-planning`);
    expect((await runCli(['start', 'Anything', '--id', ids.planning, '--wait'], env)).code).toBe(2);

    // Two goals whose subtask s1 never answers: one cancelled, one looked at while it runs, then terminated.
    tandem.model.reset();
    tandem.model.on(match.purpose('step', 's1'), reply.slow(60_000, reply.text('never')), { repeatLast: true });
    scriptDemo(tandem.model);
    ids.cancelled = tandem.goalId(`${prefix}-cancelled`);
    ids.running = tandem.goalId(`${prefix}-running`);
    for (const id of [ids.cancelled, ids.running]) {
      expect((await runCli(['start', 'Compute and save', '--id', id], env)).code).toBe(0);
    }
    await tandem.model.waitForRequests(2, { match: match.purpose('step', 's1'), timeoutMs: 30_000 });
    expect((await runCli(['cancel', ids.cancelled], env)).code).toBe(0);
    expect((await runCli(['result', ids.cancelled], env)).code).toBe(2);
  });
  afterAll(async () => {
    if (!workerStopped) await tandem.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.each(['ok', 'budget', 'planning', 'cancelled', 'running'])(
    'prints the same status of a %s goal, as text and as JSON',
    async (kind) => {
      const text = await expectSameOverHttp(['status', ids[kind]]);
      expect(text.code).toBe(0);
      expect(text.stdout.startsWith(`${ids[kind]}  `)).toBe(true);
      await expectSameOverHttp(['status', ids[kind], '--json']);
    },
  );

  it("writes a closed goal's and executor's final progress to the memo: what the progress query answers", async () => {
    for (const kind of ['ok', 'budget', 'planning', 'cancelled']) {
      const handle = tandem.client.workflow.getHandle(ids[kind]);
      const memo = (await handle.describe()).memo?.[PROGRESS_MEMO_KEY];
      expect(memo).toEqual(expect.objectContaining({ goal: expect.any(String) }));
      expect(memo).toEqual(await handle.query(progressQuery));
    }
    const executor = tandem.client.workflow.getHandle(`${ids.ok}.v1.s1`);
    const memo = (await executor.describe()).memo?.[PROGRESS_MEMO_KEY];
    expect(memo).toEqual(expect.objectContaining({ subtaskId: 's1', status: 'done' }));
    expect(memo).toEqual(await executor.query(executorProgressQuery));
  });

  it('prints the same status of a terminated goal, as text and as JSON', async () => {
    // The running goal, stopped in its subtask.
    ids.terminated = ids.running;
    await tandem.client.workflow.getHandle(ids.terminated).terminate('stopped by the test');
    // Its executor too: abandoned by the goal (ParentClosePolicy.ABANDON), it would go on with its slow model call,
    // and the two reads, seconds apart on a loaded machine, would see two moments of it.
    await tandem.client.workflow.getHandle(`${ids.terminated}.v1.s1`).terminate('stopped by the test');
    const text = await expectSameOverHttp(['status', ids.terminated]);
    expect(text.stdout.startsWith(`${ids.terminated}  terminated`)).toBe(true);
    await expectSameOverHttp(['status', ids.terminated, '--json']);
  });

  it("prints the same status of an executor, with its goal's id", async () => {
    const run = await expectSameOverHttp(['status', `${ids.ok}.v1.s1`, '--json']);
    expect(JSON.parse(run.stdout)).toEqual(expect.objectContaining({ kind: 'executor', goalId: ids.ok }));
  });

  it('lists the same goals in the same order, filtered or not, as text and as JSON', async () => {
    const mine = `WorkflowId STARTS_WITH '${prefix}'`;
    const all = await expectSameOverHttp(['list', '--query', mine, '--json']);
    expect((JSON.parse(all.stdout) as Array<{ id: string }>).map((goal) => goal.id).sort()).toEqual(
      [...new Set(Object.values(ids))].sort(),
    );
    await expectSameOverHttp(['list', '--query', mine]);
    await expectSameOverHttp(['list', '--query', mine, '--status', 'failed', '--json']);
    await expectSameOverHttp(['list', '--query', mine, '--limit', '2']);
  });

  it.each([
    [['status', 'no-such-goal-anywhere']],
    [['status', 'no-such-goal-anywhere', '--namespace', 'no-such-namespace']],
    [['list', '--namespace', 'no-such-namespace']],
    [['list', '--query', 'WorkflowId ((( nonsense']],
  ])('gives the same error for `tandem %j`, naming the server and namespace asked', async (args) => {
    const run = await expectSameOverHttp(args);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tandem: /);
  });

  it('reads over gRPC when --address points elsewhere than the HTTP API, or nothing answers there', async () => {
    const address = process.env.TEMPORAL_ADDRESS!;
    const { http, grpc, loaded } = await bothWays(['--address', address, 'status', ids.ok]);
    expect(http).toEqual(grpc);
    expect(loaded.some((module) => /node_modules\/@temporalio\/client\//.test(module))).toBe(true);
    const silent = await runCli(['status', ids.ok], { ...env, TEMPORAL_HTTP_ADDRESS: '127.0.0.1:1' });
    expect(silent).toEqual(grpc);
  });

  describe('with TEMPORAL_HTTP_ADDRESS unset, the HTTP API next to the gRPC port (its port + 10)', () => {
    /** Listeners on loopback, and every connection they took: closed and cut after each test. */
    const listeners: net.Server[] = [];
    const sockets: net.Socket[] = [];
    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.destroy();
      await Promise.all(listeners.splice(0).map((server) => new Promise((done) => server.close(done))));
    });
    function listen(port: number, onConnection: (socket: net.Socket) => void): Promise<boolean> {
      return new Promise((resolve) => {
        const server = net.createServer((socket) => {
          sockets.push(socket);
          onConnection(socket);
        });
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => {
          listeners.push(server);
          resolve(true);
        });
      });
    }
    const forwardTo = (address: string) => (socket: net.Socket) => {
      const [host, port] = address.split(':');
      const upstream = net.connect(Number(port), host);
      sockets.push(upstream);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    };
    /**
     * A gRPC address that forwards to the test server, with `beside` listening at its port + 10 (or nothing there);
     * the pair of ports is picked free, again where the second was taken.
     */
    async function serverAt(beside?: (socket: net.Socket) => void): Promise<string> {
      for (;;) {
        const port = await freePort();
        if (!(await listen(port, forwardTo(process.env.TEMPORAL_ADDRESS!)))) continue;
        if (!beside || (await listen(port + 10, beside))) return `127.0.0.1:${port}`;
      }
    }
    const unset = { TEMPORAL_HTTP_ADDRESS: undefined };
    /** Runs `args` with the HTTP API left to be found, recording the modules it loaded. */
    async function guessing(args: string[], address: string): Promise<{ run: CliRun; sdk: boolean }> {
      const file = path.join(dir, `${randomUUID()}.txt`);
      const run = await runCli(args, {
        ...env,
        ...unset,
        TEMPORAL_ADDRESS: address,
        XDG_CACHE_HOME: dir,
        NODE_OPTIONS: `--require ${recorder}`,
        LOADED_MODULES_FILE: file,
      });
      const loaded = (await fs.readFile(file, 'utf8')).split('\n');
      return { run, sdk: loaded.some((module) => /node_modules\/@temporalio\/(client|proto)\//.test(module)) };
    }
    const overGrpc = (args: string[], address: string) =>
      runCli(args, { ...env, TEMPORAL_ADDRESS: address, TEMPORAL_HTTP_ADDRESS: '' });
    const anotherServer = (socket: net.Socket) =>
      socket.end(
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"clusterId":"another"}',
      );

    it('finds it there and reads over HTTP, printing what gRPC prints', async () => {
      const address = await serverAt(forwardTo(HTTP_ADDRESS));
      for (const args of [
        ['status', ids.ok],
        ['list', '--query', `WorkflowId STARTS_WITH "${prefix}"`],
      ]) {
        const { run, sdk } = await guessing(args, address);
        expect(run).toEqual(await overGrpc(args, address));
        expect(run.code).toBe(0);
        expect(sdk).toBe(false);
      }
    });

    it.each([
      ['nothing listens there', undefined],
      ['a program there never answers', (socket: net.Socket) => socket.on('error', () => {})],
      ["another server's HTTP API answers there", anotherServer],
    ])('reads over gRPC when %s, printing the same', async (_, beside) => {
      const address = await serverAt(beside);
      const { run, sdk } = await guessing(['status', ids.ok], address);
      expect(run).toEqual(await overGrpc(['status', ids.ok], address));
      expect(run.code).toBe(0);
      expect(sdk).toBe(true);
    });

    it("checks again over gRPC when a pair found to be one server has another server's HTTP API there now", async () => {
      let beside = forwardTo(HTTP_ADDRESS);
      const address = await serverAt((socket) => beside(socket));
      expect((await guessing(['status', ids.ok], address)).sdk).toBe(false);
      // Remembered (node/same-server-cache.ts): the next verb needs only the HTTP API's cluster id.
      const remembered = await fs.readFile(path.join(dir, 'tandem', 'same-server.json'), 'utf8');
      expect(JSON.parse(remembered)).toContainEqual(
        expect.objectContaining({ grpc: address, http: `http://127.0.0.1:${Number(address.split(':')[1]) + 10}` }),
      );
      beside = anotherServer;
      const { run, sdk } = await guessing(['status', ids.ok], address);
      expect(run).toEqual(await overGrpc(['status', ids.ok], address));
      expect(sdk).toBe(true);
    });
  });

  it('refuses a TEMPORAL_HTTP_ADDRESS that is not host:port, saying what it expects', async () => {
    const run = await runCli(['list'], { ...env, TEMPORAL_HTTP_ADDRESS: 'localhost' });
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'tandem: TEMPORAL_HTTP_ADDRESS="localhost" is not the HTTP API\'s host:port (e.g. 127.0.0.1:7243); fix it, ' +
        'or unset it to use the default\n',
    });
  });

  // Last: it stops the worker. A query of a closed run has a worker replay its whole history; the memo needs none.
  it("prints a closed goal's and executor's status with no worker running, as it did with one", async () => {
    const closed = [ids.ok, ids.budget, ids.planning, ids.cancelled, `${ids.ok}.v1.s1`];
    const withWorker = await Promise.all(closed.map((id) => runCli(['status', id, '--json'], env)));
    await tandem.stop();
    workerStopped = true;
    for (const [index, id] of closed.entries()) {
      expect(await expectSameOverHttp(['status', id, '--json'])).toEqual(withWorker[index]);
      await expectSameOverHttp(['status', id]);
    }
    // `status` asks the progress query with the describe, only if open: the server refuses it for a closed run at
    // once, where a plain query would wait for a worker (none runs now) to replay the history.
    const settings = temporalSettings();
    const client = await connectClient(settings);
    try {
      const api = { baseUrl: `http://${HTTP_ADDRESS}`, namespace: settings.namespace, address: '' };
      for (const reader of [httpReader(api), grpcReader(client)]) {
        for (const id of closed) {
          const asked = reader.query(id, PROGRESS_QUERY_NAME, { deadlineMs: 5_000, onlyIfOpen: true });
          await expect(asked).resolves.toEqual({ answered: false });
        }
      }
    } finally {
      await client.connection.close();
    }
  });
});
