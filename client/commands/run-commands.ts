/** The verbs that run tandem itself: worker, dev, demo. */
import type { Command } from 'commander';
import { runWorker } from '../../worker/worker';
import { runDemo, runDev } from '../dev';

/** Registers the long-running verbs on `program`. */
export function registerRunCommands(program: Command): void {
  program
    .command('worker')
    .description('Run a worker for the planner and executor workflows until Ctrl-C')
    .action(() => runWorker());

  program
    .command('dev')
    .description('Start the local Temporal dev server (with its Web UI) and a worker, until Ctrl-C')
    .action(() => runDev());

  program
    .command('demo')
    .description('Run a demo goal end to end on the local dev server (scripted model unless OPENAI_BASE_URL is set)')
    .option('--goal <goal>', 'the goal to run', 'Compute 17 * 23 + 4 and save the result to answer.txt')
    .option('--exit', 'stop the dev server when the goal is done instead of serving the Web UI until Ctrl-C')
    .action((opts: { goal: string; exit?: boolean }) => runDemo(opts));
}
