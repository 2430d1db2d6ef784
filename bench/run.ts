/**
 * `npm run bench`: what a durable agent loop costs, tandem next to the Temporal floor and two peers, in one run on one
 * local dev server with one scripted model answering instantly. Prints figures; asserts nothing (speed goals live
 * here, not in timed tests).
 *
 *   1. per ReAct step, for the same loop run five ways (floor, tandem, AI SDK on Temporal, LangGraph + SQLite,
 *      in-process): p50/p95 latency, history events and bytes (checkpoint bytes for LangGraph), ratio to the floor;
 *      and two variants below the floor (local activities);
 *   2. whole demo goals at rising concurrency on one worker: goals/min, step p95, peak RSS, failures;
 *   3. the outer loop's cost in model tokens, for the demo goal and a 20-step subtask;
 *   4. the CLI's start-up: `tandem --version`, `tandem status`, `temporal workflow describe`;
 *   5. what the live event stream and tracing cost per step, as ratios to the same loop without them
 *      (bench/observability.ts).
 *
 * Flags: `--json` (last line is one JSON object), `--levels 1,10,100` (concurrency levels, the default; the
 * 1,000-goal level is long on a 2-core machine, so it runs on request: `--only-levels --levels 1000`), `--steps 100`
 * (steps per loop run), `--only-levels` (skip sections 1, 3 and 4), `--worker '{"workflowThreadPoolSize":2}'` (worker
 * options over the defaults below, to try a tuning), `--eager` (also run the floor and tandem on a second dev server
 * with eager activity dispatch enabled), `--cluster` (instead of all that: the demo goals on the dev server and on the
 * PostgreSQL-backed cluster with 1 and 3 worker processes, bench/cluster.ts; `--cluster-goals 30` goals per
 * configuration, `--model-latency 25` ms per model reply), `--only-observability` (section 5 alone).
 */
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  NativeConnection,
  Runtime,
  type WorkerOptions,
} from '@temporalio/worker';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { scriptDemo } from '../dev/demo-model';
import { startDevServer } from '../dev/dev-server';
import { startScriptedModel } from '../dev/scripted-model';
import { createTandemWorker, WORKFLOWS_PATH } from '../worker/worker';
import { timeCli, type CommandTiming } from './cli-timing';
import { clusterFigures } from './cluster';
import {
  floorBundle,
  runAiSdk,
  runExecutorInGoal,
  runFloor,
  runInProcess,
  runLangGraphContender,
  runStandaloneExecutor,
  type StepCost,
} from './contenders';
import { heldGoal, outerLoopCost, runLevel, type LevelFigures, type OuterLoopCost } from './goals';
import { loopGoal, scriptLoop, StepClock } from './loop-script';
import { OBSERVABILITY_ROUNDS, observabilityCost } from './observability';
import { percentile, RssSampler } from './stats';

const TASK_QUEUE = 'bench';

/**
 * The tandem worker's settings for the concurrency levels. The SDK's defaults (40 workflow tasks, 100 activities at
 * once, a cache sized from the heap) hold 100 goals; a thousand goals keep up to 2,000 workflows open at once, so the
 * cache holds them all (an evicted workflow replays its whole history on its next task).
 */
const DEFAULT_WORKER_SETTINGS: Partial<WorkerOptions> = {
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentActivityTaskExecutions: 200,
  maxCachedWorkflows: 2_500,
};
let WORKER_SETTINGS = DEFAULT_WORKER_SETTINGS;

interface StepFigures extends StepCost {
  stepP50Ms: number;
  stepP95Ms: number;
  ratioToFloor?: number;
}

function stepFigures(clock: StepClock, tag: string, cost: StepCost, floorP50?: number): StepFigures {
  const steps = clock.steps(tag);
  const stepP50Ms = percentile(steps, 50);
  return {
    stepP50Ms,
    stepP95Ms: percentile(steps, 95),
    ...cost,
    ...(floorP50 ? { ratioToFloor: stepP50Ms / floorP50 } : {}),
  };
}

const fixed = (value: number | undefined, digits = 1) =>
  value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row, index) => {
      const line = row.map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
      );
      return `  ${line.join('  ')}${index === 0 ? `\n  ${widths.map((w) => '-'.repeat(w)).join('  ')}` : ''}`;
    })
    .join('\n');
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      levels: { type: 'string', default: '1,10,100' },
      worker: { type: 'string', default: '{}' },
      steps: { type: 'string', default: '100' },
      'only-levels': { type: 'boolean', default: false },
      eager: { type: 'boolean', default: false },
      // The outer loop's cost and the CLI's timings only: a quick run when the CLI changed.
      'only-cli': { type: 'boolean', default: false },
      // The live stream's and tracing's cost only (section 5).
      'only-observability': { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      'cluster-goals': { type: 'string', default: '30' },
      'model-latency': { type: 'string', default: '25' },
    },
  });
  if (flags.cluster) {
    await clusterSection(flags.json, Number(flags['cluster-goals']), Number(flags['model-latency']));
    return;
  }
  const levels = flags.levels.split(',').filter(Boolean).map(Number);
  WORKER_SETTINGS = { ...DEFAULT_WORKER_SETTINGS, ...(JSON.parse(flags.worker) as Partial<WorkerOptions>) };
  const steps = Number(flags.steps);
  const onlyCli = flags['only-cli'];
  const onlyObservability = flags['only-observability'];
  const contenders = !flags['only-levels'] && !onlyCli && !onlyObservability;
  // Errors only, from the SDK and its core alike: at 100 goals the core warns about every slow workflow task, which
  // would bury the table (the step latencies say the same in numbers).
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-bench-'));
  process.env.TANDEM_STATE_DIR = stateDir;
  const server = await startDevServer({
    port: 0,
    uiPort: 0,
    dbFile: path.join(stateDir, 'temporal.db'),
    headless: true,
  });
  const model = await startScriptedModel();
  const clock = new StepClock();
  process.env.OPENAI_BASE_URL = model.baseURL;
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TANDEM_TASK_QUEUE = TASK_QUEUE;
  scriptLoop(model, clock);
  scriptDemo(model);

  const rss = new RssSampler();
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const { worker, connection: workerConnection } = await createTandemWorker({
    workflowBundle: { code: bundle.code },
    options: WORKER_SETTINGS,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const print = (line: string) => console.log(line);
  const startedAt = new Date();
  const report: Record<string, unknown> = {
    date: startedAt.toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    cores: os.cpus().length,
    node: process.version,
    stepsPerRun: steps,
  };

  try {
    print(`tandem benchmark · ${os.cpus().length} cores · node ${process.version} · ${startedAt.toISOString()}`);
    if (contenders) {
      const baseURL = model.baseURL;
      const floorCode = await floorBundle();
      const floor = stepFigures(
        clock,
        'floor',
        await runFloor(client, native, floorCode, { baseURL, steps, tag: 'floor', mode: 'regular' }),
      );
      const floorP50 = floor.stepP50Ms;
      const localTool = stepFigures(
        clock,
        'floor-local-tool',
        await runFloor(client, native, floorCode, { baseURL, steps, tag: 'floor-local-tool', mode: 'localTool' }),
        floorP50,
      );
      const allLocal = stepFigures(
        clock,
        'floor-local',
        await runFloor(client, native, floorCode, { baseURL, steps, tag: 'floor-local', mode: 'local' }),
        floorP50,
      );
      const inGoal = await runExecutorInGoal(client, { taskQueue: TASK_QUEUE, steps, tag: 'tandem' });
      const tandem = stepFigures(clock, 'tandem', inGoal.executor, floorP50);
      const standalone = stepFigures(
        clock,
        'tandem-alone',
        await runStandaloneExecutor(client, { taskQueue: TASK_QUEUE, steps, tag: 'tandem-alone' }),
        floorP50,
      );
      const aiSdk = stepFigures(
        clock,
        'ai-sdk',
        await runAiSdk(client, native, { baseURL, steps, tag: 'ai-sdk' }),
        floorP50,
      );
      const langgraph = stepFigures(
        clock,
        'langgraph',
        await runLangGraphContender({ baseURL, steps, tag: 'langgraph', stateDir }),
        floorP50,
      );
      await runInProcess({ steps, tag: 'in-process' });
      const inProcess = stepFigures(clock, 'in-process', { bytesPerStep: 0 }, floorP50);

      print(`\nper ReAct step (model call + calculator call), ${steps}-step runs, instant scripted model:`);
      const row = (name: string, f: StepFigures, bytesLabel = ''): string[] => [
        name,
        fixed(f.stepP50Ms),
        fixed(f.stepP95Ms),
        f.ratioToFloor === undefined ? '1.00×' : `${fixed(f.ratioToFloor, 2)}×`,
        fixed(f.eventsPerStep),
        `${fixed(f.bytesPerStep, 0)}${bytesLabel}`,
      ];
      print(
        table([
          ['contender', 'p50 ms', 'p95 ms', 'vs floor', 'events/step', 'bytes/step'],
          row('floor: 2 activities per step', floor),
          row('tandem executor (child of a planner)', tandem),
          row('tandem executor (started alone)', standalone),
          row('AI SDK via @temporalio/ai-sdk', aiSdk),
          row('LangGraph ReAct + SQLite checkpointer', langgraph, ' (ckpt)'),
          row('in-process (tandem activities, no Temporal)', inProcess),
          row('below: floor, tool as local activity', localTool),
          row('below: floor, both local activities', allLocal),
        ]),
      );
      print(
        `  planner: ${fixed(inGoal.plannerEventsPerExecutorStep)} events, ` +
          `${fixed(inGoal.plannerBytesPerExecutorStep, 0)} bytes per executor step` +
          `   LangGraph: ${fixed(langgraph.checkpointsPerStep)} checkpoints per step`,
      );
      Object.assign(report, {
        tandemStepP50Ms: tandem.stepP50Ms,
        tandemStepP95Ms: tandem.stepP95Ms,
        floorStepP50Ms: floor.stepP50Ms,
        floorStepP95Ms: floor.stepP95Ms,
        ratioToFloor: tandem.ratioToFloor,
        executorEventsPerStep: tandem.eventsPerStep,
        executorBytesPerStep: tandem.bytesPerStep,
        plannerEventsPerExecutorStep: inGoal.plannerEventsPerExecutorStep,
        plannerBytesPerExecutorStep: inGoal.plannerBytesPerExecutorStep,
        floor,
        tandemExecutorAlone: standalone,
        belowFloor: { localTool, allLocal },
        peers: { aiSdk, langgraph, inProcess },
      });
    }

    if (contenders || onlyObservability) {
      const figures = await observabilityCost(client, clock, {
        address: server.address,
        steps,
        bundleCode: bundle.code,
        workerOptions: WORKER_SETTINGS,
      });
      print(
        `\nlive event stream and tracing, per step of a standalone executor (${steps}-step runs, ${OBSERVABILITY_ROUNDS} rounds each, same run):`,
      );
      print(
        table([
          ['on', 'p50 ms', 'p95 ms', 'vs neither', 'steps'],
          ...figures.map((f) => [
            f.variant,
            fixed(f.stepP50Ms),
            fixed(f.stepP95Ms),
            `${fixed(f.ratio, 2)}×`,
            String(f.steps),
          ]),
        ]),
      );
      print('  tracing exports to an OTLP/HTTP endpoint in this process that drops what it gets');
      report.observability = figures;
    }

    if (!onlyCli && !onlyObservability) await concurrencyLevels();
    async function concurrencyLevels(): Promise<void> {
      print(`\ndemo goals (plan → 2 executors → judge → report) on one worker, all started at once:`);
      const concurrency: Record<string, LevelFigures> = {};
      const levelRows = [['goals', 'goals/min', 'step p50 ms', 'step p95 ms', 'peak RSS MiB', 'failures', 'seconds']];
      for (const count of levels) {
        const level = await runLevel(client, { taskQueue: TASK_QUEUE, count, rss });
        concurrency[String(count)] = level;
        levelRows.push([
          String(count),
          fixed(level.goalsPerMinute, 0),
          fixed(level.stepP50Ms),
          fixed(level.stepP95Ms),
          fixed(level.peakRssMiB, 0),
          String(level.failures),
          fixed(level.seconds, 0),
        ]);
      }
      print(table(levelRows));
      print(
        `  worker: ${Object.entries(WORKER_SETTINGS)
          .map(([key, value]) => `${key} ${value}`)
          .join(', ')}; RSS is the whole bench process (worker + scripted model + client); step latencies from up to` +
          ` 100 goals' executor histories`,
      );
      Object.assign(report, { concurrency, workerSettings: WORKER_SETTINGS });
    }

    if (contenders || onlyCli) {
      print('\nouter loop, model tokens (estimated, 4 characters a token, messages + offered tools):');
      const demo = await outerLoopCost(client, model, {
        taskQueue: TASK_QUEUE,
        goal: 'Compute and save',
        label: 'demo',
      });
      const long = await outerLoopCost(client, model, {
        taskQueue: TASK_QUEUE,
        goal: loopGoal(20, 'cost-20'),
        label: '20-step subtask',
        maxStepsPerSubtask: 21,
      });
      const costRow = (cost: OuterLoopCost): string[] => {
        const share = (purpose: string) => `${fixed((cost.tokens[purpose]?.share ?? 0) * 100, 0)}%`;
        return [
          cost.goal,
          String(cost.executorSteps),
          fixed(cost.promptTokensPerStep, 0),
          share('plan'),
          share('step'),
          share('judge'),
          share('report'),
          fixed(cost.requestBytesPerStep, 0),
          String(cost.lastStepRequestBytes),
        ];
      };
      print(
        table([
          ['goal', 'steps', 'tokens/step', 'plan', 'steps', 'judge', 'report', 'req B/step', 'last step B'],
          costRow(demo.cost),
          costRow(long.cost),
        ]),
      );
      Object.assign(report, { outerLoop: { demo: demo.cost, twentySteps: long.cost } });

      print(
        '\nCLI, median of 5 cold starts, in rounds of every command (one run, so the ratios hold on a loaded machine):',
      );
      const held = await heldGoal(client, TASK_QUEUE);
      const cli = await timeCli(server.address, demo.goalId, held, server.httpAddress);
      await client.workflow.getHandle(held).terminate('the CLI timings are done');
      print(
        table([
          ['command', 'ms', 'exit as expected'],
          ...Object.values(cli.timings).map((timing: CommandTiming) => [
            timing.command,
            fixed(timing.medianMs, 0),
            timing.ok ? 'yes' : 'no',
          ]),
        ]),
      );
      print(
        table([
          ['ratio', 'measured', 'target'],
          ...cli.ratios.map((row) => [row.name, `${fixed(row.ratio, 2)}×`, `≤ ${row.target}×`]),
        ]),
      );
      report.cliMs = Object.fromEntries(Object.entries(cli.timings).map(([key, timing]) => [key, timing.medianMs]));
      report.cliOk = Object.fromEntries(Object.entries(cli.timings).map(([key, timing]) => [key, timing.ok]));
      report.cliRatios = cli.ratios;
    }

    if (flags.eager) {
      const eager = await eagerDispatch(model.baseURL, clock, steps, stateDir);
      print('\nwith eager activity dispatch enabled on a second dev server (system.enableActivityEagerExecution):');
      print(
        table([
          ['contender', 'p50 ms', 'p95 ms', 'events/step'],
          ['floor', fixed(eager.floor.stepP50Ms), fixed(eager.floor.stepP95Ms), fixed(eager.floor.eventsPerStep)],
          [
            'tandem executor (alone)',
            fixed(eager.tandem.stepP50Ms),
            fixed(eager.tandem.stepP95Ms),
            fixed(eager.tandem.eventsPerStep),
          ],
        ]),
      );
      report.eagerDispatch = eager;
    }
  } finally {
    rss.stop();
    worker.shutdown();
    await running;
    await workerConnection.close();
    await native.close();
    await connection.close();
    await model.close();
    await server.stop();
  }
  if (flags.json) print(JSON.stringify(report));
}

/** `--cluster`: the same goals on the dev server and on the PostgreSQL-backed cluster, one table. */
async function clusterSection(json: boolean, goals: number, modelLatencyMs: number): Promise<void> {
  const startedAt = new Date();
  console.log(
    `tandem benchmark, cluster · ${os.cpus().length} cores · node ${process.version} · load ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')} · ${startedAt.toISOString()}`,
  );
  const rows = await clusterFigures({ goals, modelLatencyMs });
  console.log(
    `\n${goals} demo goals (plan → 2 executors → judge → report) started at once, worker processes with folders of` +
      ` their own, scripted model answering in ${modelLatencyMs} ms:`,
  );
  console.log(
    table([
      ['server', 'store', 'workers', 'goals/min', 'step p50 ms', 'step p95 ms', 'failures', 'seconds'],
      ...rows.map((row) => [
        row.server,
        row.store,
        String(row.workers),
        fixed(row.goalsPerMinute, 0),
        fixed(row.stepP50Ms),
        fixed(row.stepP95Ms),
        String(row.failures),
        fixed(row.seconds, 0),
      ]),
    ]),
  );
  console.log(
    `  load average at the end: ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}`,
  );
  if (json) {
    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
    console.log(JSON.stringify({ date: startedAt.toISOString(), command, cores: os.cpus().length, cluster: rows }));
  }
}

/** The floor and tandem's executor on a dev server that allows eager activity dispatch. */
async function eagerDispatch(
  baseURL: string,
  clock: StepClock,
  steps: number,
  stateDir: string,
): Promise<{ floor: StepFigures; tandem: StepFigures }> {
  const server = await startDevServer({
    port: 0,
    uiPort: 0,
    dbFile: path.join(stateDir, 'temporal-eager.db'),
    headless: true,
    dynamicConfig: { 'system.enableActivityEagerExecution': true },
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  try {
    const floor = stepFigures(
      clock,
      'eager-floor',
      await runFloor(client, native, await floorBundle(), { baseURL, steps, tag: 'eager-floor', mode: 'regular' }),
    );
    const { worker, connection: workerConnection } = await createTandemWorker({
      settings: { connectionOptions: { address: server.address }, namespace: 'default', taskQueue: 'bench-eager' },
      options: WORKER_SETTINGS,
    });
    const running = worker.run();
    try {
      const tandem = stepFigures(
        clock,
        'eager-tandem',
        await runStandaloneExecutor(client, { taskQueue: 'bench-eager', steps, tag: 'eager-tandem' }),
        floor.stepP50Ms,
      );
      return { floor, tandem };
    } finally {
      worker.shutdown();
      await running;
      await workerConnection.close();
    }
  } finally {
    await native.close();
    await connection.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
