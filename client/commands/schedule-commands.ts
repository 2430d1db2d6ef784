/** `tandem schedule create|list|delete`: goals started by Temporal Schedules. */
import type { Command } from 'commander';
import { newId, nonEmptyId, printJson, withClient } from './shared';
import { shellArg } from '../shell-arg';

/** The schedule operations, loaded when a verb runs (see goal-commands.ts). */
const schedules = () => import('../schedules');

/** Registers `schedule` and its subcommands on `program`. */
export function registerScheduleCommands(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Start goals on a cron schedule (Temporal Schedules; a firing is skipped while the last goal runs)');

  schedule
    .command('create')
    .description('Create a schedule that starts this goal at every cron time')
    .argument('<goal>', 'the goal each firing starts')
    .requiredOption('--cron <expr>', 'when, as a 5-field cron expression in UTC, e.g. "0 9 * * 1-5"')
    .option('--key <key>', 'concurrency key of the goals it starts (sets TandemKey)')
    .option('--id <id>', 'schedule id (default: tandem-<random>)', newId)
    .option('--json', 'print {"id": ...} as JSON')
    .action((goal: string, opts: { cron: string; key?: string; id?: string; json?: boolean }) =>
      withClient(async (client, settings) => {
        const { createSchedule } = await schedules();
        const id = await createSchedule(client, { ...opts, goal, taskQueue: settings.taskQueue });
        if (opts.json) printJson({ id });
        else console.log(`created schedule ${id}\ndelete it with: tandem schedule delete ${shellArg(id)}`);
      }),
    );

  schedule
    .command('list')
    .description("List tandem's schedules")
    .option('--json', 'print an array of schedules as JSON')
    .action((opts: { json?: boolean }) =>
      withClient(async (client) => {
        const [{ listSchedules }, { formatScheduleList }] = await Promise.all([schedules(), import('../format')]);
        const rows = await listSchedules(client);
        if (opts.json) printJson(rows);
        else console.log(formatScheduleList(rows));
      }),
    );

  schedule
    .command('delete')
    .description('Delete a schedule (goals it started keep running)')
    .argument('<id>', 'the schedule id', nonEmptyId)
    .action((id: string) =>
      withClient(async (client) => {
        await (await schedules()).deleteSchedule(client, id);
        console.log(`deleted schedule ${id}`);
      }),
    );
}
