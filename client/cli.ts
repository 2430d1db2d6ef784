/**
 * The `tandem` command line. commander parses arguments (well kept, typed, generates --help for every verb); each
 * verb is a thin wrapper over client/goals.ts. Every error ends as one line on stderr and exit code 1.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { installLogger, runWorker } from '../worker/worker';
import { connectClient, temporalSettings } from './connection';
import { runDemo, runDev } from './dev';
import { formatProgress, formatResult } from './format';
import { goalProgress, goalResult, startGoal } from './goals';

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

const program = new Command('tandem')
  .description('Run LLM agents as two nested, durable loops on Temporal: a planner and its executors.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('start')
  .description('Start a goal: the planner drafts a plan and runs one executor per subtask')
  .argument('<goal>', 'what you want done, in plain words')
  .option('--id <id>', 'workflow id for the goal (default: goal-<random>)')
  .option('--max-steps <n>', 'step budget of each subtask', positiveInt)
  .option('--wait', 'wait for the goal to finish and print its result')
  .option('--json', 'print JSON instead of text')
  .action(async (goal: string, opts: { id?: string; maxSteps?: number; wait?: boolean; json?: boolean }) => {
    const settings = temporalSettings();
    const client = await connectClient(settings);
    const handle = await startGoal(client, {
      goal,
      id: opts.id,
      taskQueue: settings.taskQueue,
      maxStepsPerSubtask: opts.maxSteps,
    });
    if (!opts.wait) {
      if (opts.json) printJson({ id: handle.workflowId, runId: handle.firstExecutionRunId });
      else console.log(`started ${handle.workflowId}\nfollow it: tandem status ${handle.workflowId}`);
      return;
    }
    const result = await goalResult(client, handle.workflowId);
    if (opts.json) printJson({ id: handle.workflowId, ...result });
    else console.log(formatResult(handle.workflowId, result));
    if (!result.ok) process.exitCode = 2;
  });

program
  .command('status')
  .description("Show a goal's progress: plan, subtasks, steps and tokens")
  .argument('<id>', 'the goal id')
  .option('--json', 'print the progress object as JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const progress = await goalProgress(await connectClient(), id);
    if (opts.json) printJson(progress);
    else console.log(formatProgress(id, progress));
  });

program
  .command('result')
  .description("Wait for a goal to finish and print its report (exit code 2 when the goal's result is not ok)")
  .argument('<id>', 'the goal id')
  .option('--json', 'print the result object as JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const result = await goalResult(await connectClient(), id);
    if (opts.json) printJson(result);
    else console.log(formatResult(id, result));
    if (!result.ok) process.exitCode = 2;
  });

program
  .command('worker')
  .description('Run a worker for the planner and executor workflows until Ctrl-C')
  .action(async () => {
    await runWorker();
  });

program
  .command('dev')
  .description('Start the local Temporal dev server (with its Web UI) and a worker, until Ctrl-C')
  .action(async () => {
    await runDev();
  });

program
  .command('demo')
  .description('Run a demo goal end to end on the local dev server (scripted model unless OPENAI_BASE_URL is set)')
  .option('--goal <goal>', 'the goal to run', 'Compute 17 * 23 + 4 and save the result to answer.txt')
  .option('--exit', 'stop the dev server when the goal is done instead of serving the Web UI until Ctrl-C')
  .action(async (opts: { goal: string; exit?: boolean }) => {
    await runDemo(opts);
  });

function oneLine(err: unknown): string {
  if (err instanceof CommanderError) return err.message.replace(/^error: /, '');
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

installLogger();
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.help')) return;
  if (!(err instanceof CommanderError)) console.error(`tandem: ${oneLine(err)}`);
  process.exitCode = 1;
});
