/**
 * The verbs that start and read goals: start, status, watch, result, list, history, output, transcript. Each action
 * loads the client modules it needs when it runs, so `tandem --version` and `--help` load none of them.
 */
import { type Command, Option } from 'commander';
import { promises as fs } from 'node:fs';
import { UserError } from '../../node/errors';
import type { GoalOutcome } from '../goals';
import { LIST_STATUSES, type ListStatus } from '../list-statuses';
import {
  afterPendingIo,
  EXIT_GOAL_NOT_OK,
  newId,
  nonEmptyId,
  overHttp,
  positiveInt,
  positiveUsd,
  printJson,
  withClient,
} from './shared';
import { approvalTimeout, approveList, checkApproveNames } from './approval-options';
import { shellArg } from '../shell-arg';

interface StartOptions {
  goalFile?: string;
  id?: string;
  key?: string;
  maxSubtaskSteps?: number;
  maxGoalSteps?: number;
  maxGoalTokens?: number;
  /** `--max-cost`: US dollars of the whole goal. */
  maxCost?: number;
  /** Alias of `maxSubtaskSteps` (`--max-steps`, the flag's name before the scope was in it). */
  maxSteps?: number;
  /** Alias of `maxGoalTokens` (`--max-tokens`). */
  maxTokens?: number;
  maxParallel?: number;
  approve?: string[];
  approvalTimeout?: number;
  wait?: boolean;
  json?: boolean;
}

/**
 * Prints how goal `id` ended, with its workspace, and sets exit code 2 unless it ended with an ok result. The
 * workspace is checked out of the store into this machine's `TANDEM_WORKSPACE_ROOT` first, so the folder printed holds
 * the goal's files whichever workers wrote them.
 */
async function printOutcome(id: string, json: boolean | undefined, outcome: GoalOutcome): Promise<void> {
  const [{ formatOutcome, outcomeJson }, { loadConfig }, { contentStore }, { checkoutWorkspace }] = await Promise.all([
    import('../format'),
    import('../../node/config'),
    import('../../activities/content-store'),
    import('../../activities/workspace-sync'),
  ]);
  const config = loadConfig();
  const workspace = await checkoutWorkspace({
    store: contentStore(config.store),
    workspaceRoot: config.workspaceRoot,
    workspace: id,
  });
  if (json) printJson({ id, ...outcomeJson(outcome, workspace) });
  else console.log(formatOutcome(id, outcome, workspace));
  if (!outcome.ok) process.exitCode = EXIT_GOAL_NOT_OK;
}

/** The goal's text: the argument, or the file of `--goal-file` (`-` for standard input), not both. */
async function goalText(argument: string | undefined, file: string | undefined): Promise<string> {
  if (argument !== undefined && file !== undefined) {
    throw new UserError('pass the goal either as an argument or with --goal-file, not both');
  }
  if (file === undefined) {
    if (argument === undefined) throw new UserError('say what you want done: tandem start "<goal>" or --goal-file F');
    return argument;
  }
  if (file !== '-') {
    return fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UserError(`cannot read the goal file ${file} (${err.code ?? err.message}); check the path`);
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A flag and its old alias: either one, or both with the same value; two different values are refused. */
function flagOrAlias(
  name: string,
  value: number | undefined,
  alias: string,
  old: number | undefined,
): number | undefined {
  if (value !== undefined && old !== undefined && value !== old) {
    throw new UserError(`--${alias} is an alias of --${name}; pass one of them, not ${old} and ${value}`);
  }
  return value ?? old;
}

async function start(argument: string | undefined, opts: StartOptions): Promise<void> {
  const goal = await goalText(argument, opts.goalFile);
  const maxStepsPerSubtask = flagOrAlias('max-subtask-steps', opts.maxSubtaskSteps, 'max-steps', opts.maxSteps);
  const maxTokens = flagOrAlias('max-goal-tokens', opts.maxGoalTokens, 'max-tokens', opts.maxTokens);
  const [{ startGoal, goalOutcome }, { loadConfig }] = await Promise.all([
    import('../goals'),
    import('../../node/config'),
  ]);
  await withClient(async (client, settings) => {
    const handle = await startGoal(client, {
      goal,
      id: opts.id,
      key: opts.key,
      taskQueue: settings.taskQueue,
      maxStepsPerSubtask,
      maxSteps: opts.maxGoalSteps,
      maxTokens,
      maxCostUsd: opts.maxCost,
      maxParallel: opts.maxParallel ?? loadConfig().maxParallel,
      approveTools: opts.approve ?? loadConfig().approveTools,
      approvalTimeoutMs: opts.approvalTimeout,
    });
    const id = handle.workflowId;
    if (handle.alreadyRunning) {
      // Not an error: the caller asked for "one goal per key" and got it. Scripts tell by the JSON's flag.
      if (opts.json) printJson({ id, runId: handle.firstExecutionRunId, alreadyRunning: true });
      else console.log(`goal already running for key ${opts.key}: ${id}\nfollow it: tandem watch ${shellArg(id)}`);
      return;
    }
    if (!opts.wait) {
      if (opts.json) printJson({ id, runId: handle.firstExecutionRunId, alreadyRunning: false });
      else console.log(`started ${id}\nfollow it: tandem watch ${shellArg(id)}`);
      return;
    }
    const { withHeldNotices } = await import('../held-notices');
    const outcome = await withHeldNotices(client, id, goalOutcome(client, id), (line) => console.error(line));
    await printOutcome(id, opts.json, outcome);
  });
}

/** Registers the goal verbs on `program`. */
export function registerGoalCommands(program: Command): void {
  program
    .command('start')
    .description('Start a goal: the planner drafts a plan and runs one executor per subtask')
    .argument('[goal]', 'what you want done, in plain words')
    .option(
      '--goal-file <file>',
      'read the goal from a file (- for standard input); a large one is stored by reference',
    )
    .option('--id <id>', 'workflow id for the goal (default: goal-<random>)', newId)
    .option('--key <key>', 'concurrency key: at most one running goal per key (id goal-key-<key>)')
    .option('--max-subtask-steps <n>', "step budget of each subtask (a plan's budget does not change it)", positiveInt)
    .option('--max-goal-steps <n>', 'step budget of the whole goal: the steps of every subtask together', positiveInt)
    .option('--max-goal-tokens <n>', 'token budget of the whole goal: every model call together', positiveInt)
    .option(
      '--max-cost <usd>',
      "cost budget of the whole goal in US dollars, by the worker's price table (docs/cost.md)",
      positiveUsd,
    )
    .option('--max-steps <n>', 'alias of --max-subtask-steps', positiveInt)
    .option('--max-tokens <n>', 'alias of --max-goal-tokens', positiveInt)
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
    .option('--wait', 'wait for the goal to finish and print its result (exit code 2 unless it is ok)')
    .option('--json', 'print JSON instead of text')
    .hook('preAction', checkApproveNames)
    .action(start);

  program
    .command('status')
    .description(
      "Show a goal's plan, subtasks, steps and tokens, why it failed, and any call that keeps failing; " +
        "on an executor's id, that executor's progress",
    )
    .argument('<id>', 'a goal id, or an executor id (<goal>.v<plan>.<subtask>)', nonEmptyId)
    .option('--json', 'print the progress object, with executionStatus, end and failingCalls, as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { snapshot, snapshotOf } = await import('../inspect');
      const [read, { formatSnapshot, snapshotJson }] = await Promise.all([
        overHttp((reader) => snapshotOf(reader, id)),
        // What prints it loads while the server answers.
        afterPendingIo().then(() => import('../format')),
      ]);
      const snap = read ?? (await withClient((client) => snapshot(client, id)));
      if (opts.json) printJson(snapshotJson(snap));
      else console.log(formatSnapshot(snap));
    });

  program
    .command('watch')
    .description('Show the live status of a goal (or an executor) until it ends (exit code 2 unless it ends ok)')
    .argument('<id>', 'a goal id, or an executor id', nonEmptyId)
    .option('--json', 'print the live event stream, one JSON object per line (docs/stream.md), until the end event')
    .action((id: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const [{ watchGoal }, { endedBadly }] = await Promise.all([import('../watch'), import('../inspect')]);
        const outcome = await watchGoal(client, id, process.stdout, { json: opts.json });
        if (!opts.json) {
          // The ending already names a result's reason; a run that failed as a workflow adds the failure's words.
          const why = outcome.last.end?.failure?.message;
          console.log(`${outcome.last.kind} ${id} ended: ${outcome.ending}${why ? `: ${why}` : ''}`);
        }
        if (endedBadly(outcome.last)) process.exitCode = EXIT_GOAL_NOT_OK;
      }),
    );

  program
    .command('result')
    .description('Wait for a goal to finish and print its report and workspace (exit code 2 unless it is ok)')
    .argument('<id>', 'the goal id', nonEmptyId)
    .option('--json', 'print the result object, with its workspace, as JSON')
    // Waiting is what `result` always did; the flag says so in scripts, as `start --wait` does.
    .option('--wait', 'wait for the goal to finish (the default); a call held for approval is printed to stderr')
    .action((id: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const [{ goalOutcome }, { withHeldNotices }] = await Promise.all([
          import('../goals'),
          import('../held-notices'),
        ]);
        const outcome = await withHeldNotices(client, id, goalOutcome(client, id), (line) => console.error(line));
        await printOutcome(id, opts.json, outcome);
      }),
    );

  program
    .command('list')
    .description('List goals, newest first (from the visibility store; no worker needed)')
    .addOption(new Option('--status <status>', 'only goals in this state').choices(LIST_STATUSES))
    .option('--query <query>', `a visibility query to narrow the list, e.g. "TandemKey = 'nightly'"`)
    .option('--limit <n>', 'at most this many goals', positiveInt, 100)
    .option('--json', 'print an array of goal summaries as JSON')
    .action(async (opts: { status?: ListStatus; query?: string; limit: number; json?: boolean }) => {
      const { listGoals, listGoalsOf } = await import('../goal-list');
      const [read, [{ formatGoalList }, { terminalWidth }]] = await Promise.all([
        overHttp((reader) => listGoalsOf(reader, opts)),
        // What prints it loads while the server answers.
        afterPendingIo().then(() => Promise.all([import('../format'), import('../terminal-width')])),
      ]);
      const goals = read ?? (await withClient((client) => listGoals(client, opts)));
      if (opts.json) printJson(goals);
      else console.log(formatGoalList(goals, terminalWidth(process.stdout.columns)));
    });

  program
    .command('history')
    .description("Show a goal's plan versions and the replans that produced them")
    .argument('<id>', 'the goal id', nonEmptyId)
    .option('--json', 'print the plan versions as JSON')
    .action((id: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const [{ goalProgress }, { formatForkPoints, formatHistory }] = await Promise.all([
          import('../goals'),
          import('../format'),
        ]);
        const progress = await goalProgress(client, id);
        const rejectedDrafts = progress.rejectedDrafts ?? [];
        // The steps and versions `tandem fork` can name come with the history they belong to.
        const subtasks = progress.subtasks.map(({ id: subtask, workflowId, steps }) => ({
          id: subtask,
          workflowId,
          steps,
        }));
        const forkedFrom = progress.forkedFrom ? { forkedFrom: progress.forkedFrom } : {};
        if (opts.json)
          printJson({
            id,
            planVersion: progress.planVersion,
            plans: progress.versions,
            rejectedDrafts,
            subtasks,
            ...forkedFrom,
          });
        else console.log(formatHistory(id, progress.versions, rejectedDrafts) + formatForkPoints(id, progress));
      }),
    );

  program
    .command('transcript')
    .description("Print a subtask's conversation with the model: messages, tool calls and what the tools returned")
    .argument('<id>', 'the goal id (or an executor id, without <subtask>)', nonEmptyId)
    .argument('[subtask]', 'the subtask id, e.g. s1', nonEmptyId)
    .option('--json', 'print {workflowId, subtaskId, ref, messages} with the raw messages as JSON')
    .action((id: string, subtask: string | undefined, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const [{ readTranscript }, { formatTranscript }] = await Promise.all([
          import('../transcript'),
          import('../format'),
        ]);
        const transcript = await readTranscript(client, id, subtask);
        // Step N is the model's N-th reply: the number `tandem fork --step` takes.
        const steps = transcript.messages.filter((message) => message.role === 'assistant').length;
        if (opts.json) printJson({ ...transcript, steps });
        else {
          console.log(
            formatTranscript(`${transcript.workflowId} (subtask ${transcript.subtaskId})`, transcript.messages),
          );
          if (steps > 0 && subtask !== undefined) {
            console.log(
              `\nfork at a step (1-${steps}): tandem fork ${shellArg(id)} --subtask ${shellArg(subtask)} --step N`,
            );
          }
        }
      }),
    );

  program
    .command('output')
    .description('Print a full, untrimmed tool output of a goal by its reference (sha256:...)')
    .argument('<id>', 'the goal id', nonEmptyId)
    .argument('<ref>', 'the output reference, from toolCalls[].outputRef in `tandem result --json`', nonEmptyId)
    .action((id: string, ref: string) =>
      withClient(async (client) => {
        const { goalOutput } = await import('../goal-output');
        process.stdout.write(await goalOutput(client, id, ref));
      }),
    );
}
