/**
 * The `tandem` command line. commander parses arguments (well kept, typed, generates --help for every verb); the
 * verbs live in client/commands/, each a thin wrapper over a client module. Every error ends as one line on stderr
 * and exit code 1; a goal that ended without an ok result exits 2 where a verb waits for it.
 */
import { Command, CommanderError } from 'commander';
import { installLogger } from '../worker/worker';
import { registerApprovalCommands } from './commands/approval-commands';
import { registerControlCommands } from './commands/control-commands';
import { registerGoalCommands } from './commands/goal-commands';
import { registerRunCommands } from './commands/run-commands';
import { registerScheduleCommands } from './commands/schedule-commands';

const program = new Command('tandem')
  .description('Run LLM agents as two nested, durable loops on Temporal: a planner and its executors.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
registerGoalCommands(program);
registerControlCommands(program);
registerApprovalCommands(program);
registerScheduleCommands(program);
registerRunCommands(program);

function oneLine(err: unknown): string {
  if (err instanceof CommanderError) return err.message.replace(/^error: /, '');
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

async function main(): Promise<void> {
  // Inside the promise chain: a bad setting read here (TANDEM_LOG_LEVEL, ...) is a one-line error like any other.
  installLogger();
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  if (err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.help')) return;
  if (!(err instanceof CommanderError)) console.error(`tandem: ${oneLine(err)}`);
  process.exitCode = 1;
});
