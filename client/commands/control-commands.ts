/** The verbs that steer a running goal: replan, interrupt, pause, resume, cancel. Each refuses a finished goal. */
import type { Command } from 'commander';
import { nonEmptyId, printJson, withClient } from './shared';
import { shellArg } from '../shell-arg';

/** The steering operations, loaded when a verb runs (see goal-commands.ts). */
const control = () => import('../goal-control');

/** Registers the steering verbs on `program`. */
export function registerControlCommands(program: Command): void {
  program
    .command('replan')
    .description('Replan a running goal with this evidence now; prints the new plan version')
    .argument('<id>', 'the goal id', nonEmptyId)
    .argument('<evidence>', 'what is wrong with the current plan')
    .option('--json', 'print the new plan version as JSON')
    .action((id: string, evidence: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const [{ revisePlan }, { formatPlanVersion }] = await Promise.all([control(), import('../format')]);
        const plan = await revisePlan(client, id, evidence);
        if (opts.json) printJson(plan);
        else console.log(formatPlanVersion(plan));
      }),
    );

  program
    .command('interrupt')
    .description("Send a message to the goal's model, delivered at the next step (all running subtasks, or one)")
    .argument('<id>', 'the goal id', nonEmptyId)
    .argument('<message>', 'the message for the model')
    .option('--subtask <subtask>', 'deliver only to this subtask, e.g. s2', nonEmptyId)
    .action((id: string, message: string, opts: { subtask?: string }) =>
      withClient(async (client) => {
        const outcome = await (await control()).interruptGoal(client, id, message, opts.subtask);
        console.log(`interrupt sent to ${id}${opts.subtask ? ` (subtask ${opts.subtask})` : ''}`);
        if (outcome.unchecked) console.error(`tandem: no worker answered, so the subtask id was not checked`);
      }),
    );

  program
    .command('pause')
    .description('Pause the whole goal before its next LLM call, until resume')
    .argument('<id>', 'the goal id', nonEmptyId)
    .action((id: string) =>
      withClient(async (client) => {
        const outcome = await (await control()).pauseGoal(client, id);
        if (!outcome.changed) console.log(`goal ${id} is already paused; nothing changed`);
        else console.log(`pause sent to ${id}; continue it with: tandem resume ${shellArg(id)}`);
      }),
    );

  program
    .command('resume')
    .description('Resume a paused goal')
    .argument('<id>', 'the goal id', nonEmptyId)
    .action((id: string) =>
      withClient(async (client) => {
        const outcome = await (await control()).resumeGoal(client, id);
        if (!outcome.changed) console.log(`goal ${id} is not paused; nothing changed`);
        else console.log(`resume sent to ${id}`);
      }),
    );

  program
    .command('cancel')
    .description('Cancel a running goal and its executors')
    .argument('<id>', 'the goal id', nonEmptyId)
    .action((id: string) =>
      withClient(async (client) => {
        await (await control()).cancelGoal(client, id);
        console.log(`cancellation requested for ${id}; see how it ended with: tandem status ${shellArg(id)}`);
      }),
    );
}
