/** The verbs that start and read goals: start, status, watch, result, list, history, output. */
import { type Command, Option } from 'commander';
import { temporalSettings } from '../../node/connection';
import { formatGoalList, formatHistory, formatProgress, formatResult } from '../format';
import { listGoals, LIST_STATUSES, type ListStatus } from '../goal-list';
import { goalOutput } from '../goal-output';
import { loadConfig } from '../../node/config';
import { goalProgress, goalResult, startGoal } from '../goals';
import { watchGoal } from '../watch';
import { approvalTimeout, approveList } from './approval-options';
import { positiveInt, printJson, withClient } from './shared';

/** Exit code of `start --wait`, `result` and `watch` when the goal ended without an ok result. */
export const EXIT_GOAL_FAILED = 2;

interface StartOptions {
  id?: string;
  key?: string;
  maxSteps?: number;
  maxTokens?: number;
  maxParallel?: number;
  approve?: string[];
  approvalTimeout?: number;
  wait?: boolean;
  json?: boolean;
}

async function start(goal: string, opts: StartOptions): Promise<void> {
  const settings = temporalSettings();
  await withClient(async (client) => {
    const handle = await startGoal(client, {
      goal,
      id: opts.id,
      key: opts.key,
      taskQueue: settings.taskQueue,
      maxStepsPerSubtask: opts.maxSteps,
      maxTokens: opts.maxTokens,
      maxParallel: opts.maxParallel ?? loadConfig().maxParallel,
      approveTools: opts.approve ?? loadConfig().approveTools,
      approvalTimeoutMs: opts.approvalTimeout,
    });
    const id = handle.workflowId;
    if (handle.alreadyRunning) {
      // Not an error: the caller asked for "one goal per key" and got it. Scripts tell by the JSON's flag.
      if (opts.json) printJson({ id, runId: handle.firstExecutionRunId, alreadyRunning: true });
      else console.log(`goal already running for key ${opts.key}: ${id}\nfollow it: tandem watch ${id}`);
      return;
    }
    if (!opts.wait) {
      if (opts.json) printJson({ id, runId: handle.firstExecutionRunId, alreadyRunning: false });
      else console.log(`started ${id}\nfollow it: tandem watch ${id}`);
      return;
    }
    const result = await goalResult(client, id);
    if (opts.json) printJson({ id, ...result });
    else console.log(formatResult(id, result));
    if (!result.ok) process.exitCode = EXIT_GOAL_FAILED;
  });
}

/** Registers the goal verbs on `program`. */
export function registerGoalCommands(program: Command): void {
  program
    .command('start')
    .description('Start a goal: the planner drafts a plan and runs one executor per subtask')
    .argument('<goal>', 'what you want done, in plain words')
    .option('--id <id>', 'workflow id for the goal (default: goal-<random>)')
    .option('--key <key>', 'concurrency key: at most one running goal per key (id goal-key-<key>)')
    .option('--max-steps <n>', 'step budget of each subtask', positiveInt)
    .option('--max-tokens <n>', 'token budget of the whole goal', positiveInt)
    .option('--max-parallel <n>', 'executors running at once (default: $TANDEM_MAX_PARALLEL)', positiveInt)
    .option(
      '--approve <tools>',
      'calls of these tools wait for `tandem approve`: comma-separated names, or side-effects (default: $TANDEM_APPROVE_TOOLS)',
      approveList,
    )
    .option(
      '--approval-timeout <duration>',
      'deny calls nobody decided within this long, e.g. 90s, 15m, 2h',
      approvalTimeout,
    )
    .option('--wait', 'wait for the goal to finish and print its result')
    .option('--json', 'print JSON instead of text')
    .action(start);

  program
    .command('status')
    .description("Show a goal's progress: plan, subtasks, steps and tokens")
    .argument('<id>', 'the goal id')
    .option('--json', 'print the progress object as JSON')
    .action((id: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const progress = await goalProgress(client, id);
        if (opts.json) printJson(progress);
        else console.log(formatProgress(id, progress));
      }),
    );

  program
    .command('watch')
    .description('Show the live tree of plan → subtasks → steps and tokens until the goal ends')
    .argument('<id>', 'the goal id')
    .action((id: string) =>
      withClient(async (client) => {
        const outcome = await watchGoal(client, id);
        console.log(`goal ${id} ended: ${outcome.executionStatus.toLowerCase()} (${outcome.progressStatus})`);
        if (outcome.executionStatus !== 'COMPLETED' || outcome.progressStatus !== 'completed') {
          process.exitCode = EXIT_GOAL_FAILED;
        }
      }),
    );

  program
    .command('result')
    .description("Wait for a goal to finish and print its report (exit code 2 when the goal's result is not ok)")
    .argument('<id>', 'the goal id')
    .option('--json', 'print the result object as JSON')
    .action((id: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const result = await goalResult(client, id);
        if (opts.json) printJson(result);
        else console.log(formatResult(id, result));
        if (!result.ok) process.exitCode = EXIT_GOAL_FAILED;
      }),
    );

  program
    .command('list')
    .description('List goals, newest first (from the visibility store; no worker needed)')
    .addOption(new Option('--status <status>', 'only goals in this state').choices(LIST_STATUSES))
    .option('--json', 'print an array of goal summaries as JSON')
    .action((opts: { status?: ListStatus; json?: boolean }) =>
      withClient(async (client) => {
        const goals = await listGoals(client, opts.status);
        if (opts.json) printJson(goals);
        else console.log(formatGoalList(goals));
      }),
    );

  program
    .command('history')
    .description("Show a goal's plan versions and the replans that produced them")
    .argument('<id>', 'the goal id')
    .option('--json', 'print the plan versions as JSON')
    .action((id: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const progress = await goalProgress(client, id);
        if (opts.json) printJson({ id, planVersion: progress.planVersion, plans: progress.versions });
        else console.log(formatHistory(id, progress.versions));
      }),
    );

  program
    .command('output')
    .description('Print a full, untrimmed tool output of a goal by its reference (sha256:...)')
    .argument('<id>', 'the goal id')
    .argument('<ref>', 'the output reference, from toolCalls[].outputRef in `tandem result --json`')
    .action((id: string, ref: string) =>
      withClient(async (client) => {
        process.stdout.write(await goalOutput(client, id, ref));
      }),
    );
}
