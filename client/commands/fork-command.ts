/** `tandem fork`: a new goal from a subtask's step or a plan version of another (client/fork.ts, docs/fork.md). */
import type { Command } from 'commander';
import { newId, nonEmptyId, positiveInt, printJson, withClient } from './shared';
import { shellArg } from '../shell-arg';

/** Registers `fork` on `program`. */
export function registerForkCommand(program: Command): void {
  program
    .command('fork')
    .description(
      "Start a new goal from a subtask's step of another (its conversation, files and budget as they were), " +
        'or from one of its plan versions; the original does not change',
    )
    .argument('<id>', 'the goal to fork', nonEmptyId)
    .option('--subtask <subtask>', 'the subtask that resumes, e.g. s2', nonEmptyId)
    .option('--step <n>', 'its step that runs again (steps: tandem transcript ID S)', positiveInt)
    .option(
      '--plan-version <v>',
      'fork the planner: run this plan version again (versions: tandem history ID)',
      positiveInt,
    )
    .option('--interrupt <message>', 'the first thing the model reads in the fork')
    .option('--model <model>', "the model of the fork's executor steps (default: the configured one)")
    .option('--id <id>', 'workflow id of the fork (default: <id>-fork-<random>)', newId)
    .option('--json', 'print {id, forkedFrom} as JSON')
    .action(
      (
        id: string,
        opts: {
          subtask?: string;
          step?: number;
          planVersion?: number;
          interrupt?: string;
          model?: string;
          id?: string;
          json?: boolean;
        },
      ) =>
        withClient(async (client) => {
          const [{ forkGoal }, { forkedFromLine }] = await Promise.all([
            import('../fork'),
            import('../../common/fork'),
          ]);
          const { json, id: newGoalId, ...where } = opts;
          const fork = await forkGoal(client, id, { ...where, ...(newGoalId ? { id: newGoalId } : {}) });
          if (json) printJson(fork);
          else
            console.log(
              `started ${fork.id}, ${forkedFromLine(fork.forkedFrom)}\nfollow it: tandem watch ${shellArg(fork.id)}`,
            );
        }),
    );
}
