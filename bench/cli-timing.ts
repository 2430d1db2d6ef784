/**
 * How long the CLI takes from a cold process, next to the tools it is measured against, in one run so the ratios
 * hold on a loaded machine too: `tandem --version` against `node -e ''`, `tandem status ID` (of a closed goal and of a
 * running one) and `tandem list` against `temporal workflow describe` and `temporal workflow list` on the same server,
 * and a verb with no server. Each command runs several times; the median is kept.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { freePort } from '../dev/dev-server';
import { resolveTemporalCli } from '../dev/temporal-cli';
import { percentile } from './stats';

const TANDEM_BIN = path.join(__dirname, '..', 'bin', 'tandem.cjs');
const RUNS = 5;

/** Median wall time of one command, and whether it exited as expected every time. */
export interface CommandTiming {
  command: string;
  medianMs: number;
  ok: boolean;
}

/** A tandem command's median over its reference's: the figure the targets are stated in. */
export interface CliRatio {
  name: string;
  ratio: number;
  /** The most the ratio may be (issue 21's targets). */
  target: number;
}

function timeOnce(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 60_000 }, (error) =>
      resolve({ ms: performance.now() - started, code: error ? Number(error.code ?? 1) : 0 }),
    );
  });
}

async function timeCommand(
  label: string,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  expectedCode = 0,
): Promise<CommandTiming> {
  const runs: Array<{ ms: number; code: number }> = [];
  for (let i = 0; i < RUNS; i++) runs.push(await timeOnce(file, args, env));
  return {
    command: label,
    medianMs: percentile(
      runs.map((run) => run.ms),
      50,
    ),
    ok: runs.every((run) => run.code === expectedCode),
  };
}

/**
 * Times the CLI against the closed goal `goalId` and the running goal `runningGoalId` on the server at `address`, and
 * a verb pointed at a closed port. With the server's `httpAddress`, `status` and `list` read over its HTTP API as they
 * do after `tandem dev` (and are timed over gRPC too, the way of a TLS or API-key connection); without it, over gRPC
 * only. A closed goal's status reads its progress from the memo; a running one's asks its worker the progress query.
 */
export async function timeCli(
  address: string,
  goalId: string,
  runningGoalId: string,
  httpAddress: string | null,
): Promise<{ timings: Record<string, CommandTiming>; ratios: CliRatio[] }> {
  const env = { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_HTTP_ADDRESS: httpAddress ?? '' };
  const grpcEnv = { ...env, TEMPORAL_HTTP_ADDRESS: '' };
  const temporal = resolveTemporalCli();
  const tandem = (label: string, args: string[], expectedCode?: number) =>
    timeCommand(label, process.execPath, [TANDEM_BIN, ...args], env, expectedCode);
  const closed = `127.0.0.1:${await freePort()}`;
  const timings = {
    node: await timeCommand("node -e ''", process.execPath, ['-e', ''], env),
    version: await tandem('tandem --version', ['--version']),
    status: await tandem('tandem status ID', ['status', goalId]),
    statusGrpc: await timeCommand(
      'tandem status ID, over gRPC',
      process.execPath,
      [TANDEM_BIN, 'status', goalId],
      grpcEnv,
    ),
    temporalDescribe: await timeCommand(
      'temporal workflow describe -w ID',
      temporal,
      [...['workflow', 'describe', '-w', goalId, '--address', address]],
      env,
    ),
    statusRunning: await tandem('tandem status ID, a running goal', ['status', runningGoalId]),
    temporalDescribeRunning: await timeCommand(
      'temporal workflow describe -w ID, a running goal',
      temporal,
      [...['workflow', 'describe', '-w', runningGoalId, '--address', address]],
      env,
    ),
    list: await tandem('tandem list', ['list']),
    listGrpc: await timeCommand('tandem list, over gRPC', process.execPath, [TANDEM_BIN, 'list'], grpcEnv),
    temporalList: await timeCommand(
      'temporal workflow list',
      temporal,
      ['workflow', 'list', '--address', address],
      env,
    ),
    noServer: await tandem('tandem status ID, no server', ['status', goalId, '--address', closed], 1),
  };
  const ratio = (name: string, of: CommandTiming, to: CommandTiming, target: number): CliRatio => ({
    name,
    ratio: of.medianMs / to.medianMs,
    target,
  });
  return {
    timings,
    ratios: [
      ratio("--version / node -e ''", timings.version, timings.node, 2),
      ratio('status / temporal workflow describe', timings.status, timings.temporalDescribe, 3),
      ratio(
        'status of a running goal / temporal workflow describe',
        timings.statusRunning,
        timings.temporalDescribeRunning,
        3,
      ),
      ratio('list / temporal workflow list', timings.list, timings.temporalList, 3),
      ratio('status over gRPC / temporal workflow describe', timings.statusGrpc, timings.temporalDescribe, 3),
      ratio('list over gRPC / temporal workflow list', timings.listGrpc, timings.temporalList, 3),
    ],
  };
}
