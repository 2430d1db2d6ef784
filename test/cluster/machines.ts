/**
 * "Machines" for the cluster tests: `tandem worker` processes, each with state and workspace folders of its own and,
 * where the system allows it, a network namespace of its own with only loopback. A worker in a namespace reaches the
 * Temporal server, the S3 store, the model and any host its TANDEM_HTTP_ALLOW names through relays (dev/relay.ts): in
 * its namespace from 127.0.0.1:PORT to a Unix socket in a folder both namespaces see, and here from that socket to the
 * real 127.0.0.1:PORT. Without namespaces (no CAP_SYS_ADMIN, no `unshare`), workers are plain processes, and the
 * first start says so on stderr.
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { promises as fs, mkdtempSync } from 'node:fs';
import type { Server } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRelay } from '../../dev/relay';
import { startScriptedModel, type ScriptedModel } from '../../dev/scripted-model';
import { startWorkerProcess, type WorkerProcess } from '../../dev/worker-process';

const PRELOAD = path.resolve(__dirname, '../../dist/dev/netns-preload.js');

/** Folders of their own for one process: a machine's local disk. */
export async function machineFolders(label: string): Promise<Record<string, string>> {
  const state = await fs.mkdtemp(path.join(os.tmpdir(), `tandem-${label}-`));
  return { TANDEM_STATE_DIR: state, TANDEM_WORKSPACE_ROOT: path.join(state, 'workspaces') };
}

/** Why this system cannot give a worker a network namespace (the command's error), or undefined when it can. */
function namespaceProblem(): string | undefined {
  try {
    execFileSync('unshare', ['--net', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || String(error);
  }
}
const NAMESPACE_PROBLEM = namespaceProblem();
let saidNoNamespaces = false;

/** The loopback ports a worker with `env` talks to: the server, the store, the model and its allowed HTTP hosts. */
function portsNamed(env: Record<string, string | undefined>): number[] {
  const addresses = [
    `//${env.TEMPORAL_ADDRESS}`,
    env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
    env.OPENAI_BASE_URL,
    ...(env.TANDEM_HTTP_ALLOW ?? '').split(',').map((host) => `//${host.trim()}`),
  ];
  const ports = addresses.flatMap((address) => {
    const url = address && URL.canParse(address, 'http://x') ? new URL(address, 'http://x') : undefined;
    return url?.hostname === '127.0.0.1' && url.port ? [Number(url.port)] : [];
  });
  return [...new Set(ports)];
}

/** The `pid@host` identity the SDK gives a worker by default, as activity task events record it. */
export const identityOf = (worker: WorkerProcess) => `${worker.child.pid}@${os.hostname()}`;

/** One activity task start in a history. */
export interface ActivityStart {
  activity: string;
  identity: string;
  attempt: number;
}

/** The machines of one test: start them, find the one running an activity, stop them all. */
export class Machines {
  readonly workers: WorkerProcess[] = [];
  /** Whether the workers started so far each have a network namespace. */
  readonly isolated = NAMESPACE_PROBLEM === undefined;
  private readonly relays = new Map<number, Promise<Server>>();
  private socketDir: string | undefined;

  constructor(private readonly client: Client) {}

  /** Starts `count` workers at once with `env` over the environment, each with folders of its own. */
  async start(count: number, env: Record<string, string>): Promise<WorkerProcess[]> {
    if (!this.isolated && !saidNoNamespaces) {
      saidNoNamespaces = true;
      console.warn(`cluster tests: workers run as plain processes, without network namespaces: ${NAMESPACE_PROBLEM}`);
    }
    const first = this.workers.length;
    const started = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const own = { ...env, ...(await machineFolders(`w${first + i}`)) };
        if (!this.isolated) return startWorkerProcess(own);
        return startWorkerProcess(
          { ...own, TANDEM_NETNS_RELAYS: await this.relaysFor({ ...process.env, ...own }) },
          { exec: ['unshare', '--net', '--'], nodeArgs: ['--require', PRELOAD] },
        );
      }),
    );
    this.workers.push(...started);
    return started;
  }

  /** TANDEM_NETNS_RELAYS for a worker with `env`: one socket per port, relayed here to the real port. */
  private async relaysFor(env: Record<string, string | undefined>): Promise<string> {
    this.socketDir ??= mkdtempSync(path.join(os.tmpdir(), 'tandem-relays-'));
    const entries: string[] = [];
    for (const port of portsNamed(env)) {
      const socket = path.join(this.socketDir, `${port}.sock`);
      if (!this.relays.has(port)) this.relays.set(port, startRelay({ path: socket }, { port }));
      await this.relays.get(port);
      entries.push(`${port}=${socket}`);
    }
    return entries.join(',');
  }

  /** The worker process that last took a pending `activity` of `workflowId` (waits up to 60 s for one). */
  async running(workflowId: string, activity: string): Promise<WorkerProcess> {
    for (const started = Date.now(); Date.now() - started < 60_000;) {
      // Not found until the planner has started the executor.
      const description = await this.client.workflow
        .getHandle(workflowId)
        .describe()
        .catch((error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return undefined;
          throw error;
        });
      const pending = description?.raw.pendingActivities?.find((a) => a.activityType?.name === activity);
      const worker = this.workers.find((candidate) => identityOf(candidate) === pending?.lastWorkerIdentity);
      if (worker) return worker;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`no worker took ${activity} of ${workflowId} within 60 s`);
  }

  /**
   * Who started each activity in the histories of `workflowIds`, in order: its type, the worker's identity and the
   * attempt (a history records only the attempt that ended, so a retried activity shows its last attempt).
   */
  async activityWorkers(workflowIds: string[]): Promise<ActivityStart[]> {
    const found: ActivityStart[] = [];
    for (const id of workflowIds) {
      const events = (await this.client.workflow.getHandle(id).fetchHistory()).events ?? [];
      const types = new Map<string, string>();
      for (const event of events) {
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (scheduled) types.set(String(event.eventId), scheduled.activityType?.name ?? '');
        const started = event.activityTaskStartedEventAttributes;
        if (started?.identity) {
          const activity = types.get(String(started.scheduledEventId)) ?? '';
          found.push({ activity, identity: started.identity, attempt: started.attempt ?? 1 });
        }
      }
    }
    return found;
  }

  /** Kills every worker and closes the relays. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.kill()));
    for (const relay of this.relays.values()) (await relay).close();
    this.relays.clear();
    if (this.socketDir) await fs.rm(this.socketDir, { recursive: true, force: true });
  }
}

/** What each test of a cluster suite gets afresh; read its fields inside a test (they change between tests). */
export interface ClusterTest {
  client: Client;
  model: ScriptedModel;
  machines: Machines;
  /** A task queue no other test polls: `<prefix>-<pid>-<run>`. */
  queue: string;
  /** This test's number in the suite, from 0. */
  run: number;
}

/**
 * Registers the hooks every cluster suite needs (a client of the cluster from global-setup's environment; per test a
 * scripted model, machines and a task queue, all stopped after it) and returns the current test's parts.
 */
export function clusterSuite(queuePrefix: string): ClusterTest {
  const current = { run: -1 } as ClusterTest;
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
    current.client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE });
  });
  afterAll(() => connection.close());
  beforeEach(async () => {
    current.run += 1;
    current.model = await startScriptedModel();
    current.machines = new Machines(current.client);
    current.queue = `${queuePrefix}-${process.pid}-${current.run}`;
  });
  afterEach(async () => {
    await current.machines.stop();
    await current.model.close();
  });
  return current;
}
