/**
 * How long the CLI takes from a cold process, next to the tools it is measured against, in one run so the ratios
 * hold on a loaded machine too: `tandem --version` against `node -e ''`, `tandem status ID` (of a closed goal and of a
 * running one) and `tandem list` against `temporal workflow describe` and `temporal workflow list` on the same server,
 * and a verb with no server. Each command runs several times, in rounds of all of them; the median is kept.
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

/** One command to time: what it is called in the table, how to run it, and the exit code it should end with. */
interface CommandSpec {
  label: string;
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  expectedCode?: number;
}

/**
 * Times every command RUNS times, in rounds that run each once in turn, so a change of the machine's load during the
 * run falls on tandem and its reference alike (5 runs of one, then 5 of the other, had them measured under different
 * loads); the median of each is kept.
 */
async function timeInRounds<K extends string>(specs: Record<K, CommandSpec>): Promise<Record<K, CommandTiming>> {
  const keys = Object.keys(specs) as K[];
  const runs = new Map<K, Array<{ ms: number; code: number }>>(keys.map((key) => [key, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const key of keys) runs.get(key)!.push(await timeOnce(specs[key].file, specs[key].args, specs[key].env));
  }
  return Object.fromEntries(
    keys.map((key) => {
      const { label, expectedCode = 0 } = specs[key];
      const own = runs.get(key)!;
      const timing: CommandTiming = {
        command: label,
        medianMs: percentile(
          own.map((run) => run.ms),
          50,
        ),
        ok: own.every((run) => run.code === expectedCode),
      };
      return [key, timing];
    }),
  ) as Record<K, CommandTiming>;
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
  const tandem = (label: string, args: string[], expectedCode?: number): CommandSpec => ({
    label,
    file: process.execPath,
    args: [TANDEM_BIN, ...args],
    env,
    expectedCode,
  });
  const overGrpc = (spec: CommandSpec): CommandSpec => ({ ...spec, env: grpcEnv });
  const temporalCli = (label: string, args: string[]): CommandSpec => ({
    label,
    file: temporal,
    args: [...args, '--address', address],
    env,
  });
  const closed = `127.0.0.1:${await freePort()}`;
  const timings = await timeInRounds({
    node: { label: "node -e ''", file: process.execPath, args: ['-e', ''], env },
    version: tandem('tandem --version', ['--version']),
    status: tandem('tandem status ID', ['status', goalId]),
    statusGrpc: overGrpc(tandem('tandem status ID, over gRPC', ['status', goalId])),
    temporalDescribe: temporalCli('temporal workflow describe -w ID', ['workflow', 'describe', '-w', goalId]),
    statusRunning: tandem('tandem status ID, a running goal', ['status', runningGoalId]),
    temporalDescribeRunning: temporalCli('temporal workflow describe -w ID, a running goal', [
      ...['workflow', 'describe', '-w', runningGoalId],
    ]),
    list: tandem('tandem list', ['list']),
    listGrpc: overGrpc(tandem('tandem list, over gRPC', ['list'])),
    temporalList: temporalCli('temporal workflow list', ['workflow', 'list']),
    noServer: tandem('tandem status ID, no server', ['status', goalId, '--address', closed], 1),
  });
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
