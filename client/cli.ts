/**
 * The `tandem` command line (bin/tandem.cjs runs its compiled form, dist/client/cli.js). commander parses arguments
 * (well kept, typed, generates --help for every verb); the verbs live in client/commands/, one module per group, each
 * a thin wrapper that loads the client modules it needs only when it runs, so light verbs stay fast.
 *
 * Exit codes: 0 success; 1 an error; 2 from `start --wait`, `result`, `watch` and `demo` when the goal ended without
 * an ok result. Errors: a parse error or a {@link UserError} is one line on stderr starting `tandem:`; anything else
 * is a bug and keeps its stack.
 */
import { Argument, Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { messageWithCauses, UserError } from '../node/errors';
import { findProjectRoot } from '../node/project-root';
import { registerApprovalCommands } from './commands/approval-commands';
import { addExamples } from './commands/examples';
import { COMPLETION_SHELLS, type CompletionShell, completionScript } from './completion';
import { registerControlCommands } from './commands/control-commands';
import { registerGoalCommands } from './commands/goal-commands';
import { registerForkCommand } from './commands/fork-command';
import { registerRunCommands } from './commands/run-commands';
import { registerScheduleCommands } from './commands/schedule-commands';
import { registerServeCommand } from './commands/serve-command';
import { setConnectionOverrides } from './commands/shared';

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(findProjectRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** commander's message as one line: no `error:` prefix, a "did you mean" folded in, and where to read the usage. */
function parseErrorLine(message: string, command: string): string {
  const text = message
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ')
    // commander ends some messages with a full stop; "choices are a, b.; see:" reads as a typo.
    .replace(/\.$/, '');
  return `tandem: ${text}; see: ${command} --help\n`;
}

/** Every command prints its parse errors as one `tandem:` line that names its own --help. */
function oneLineParseErrors(command: Command, name: string): void {
  command.configureOutput({ outputError: (message, write) => write(parseErrorLine(message, name)) });
  for (const sub of command.commands) oneLineParseErrors(sub, `${name} ${sub.name()}`);
}

const program = new Command('tandem')
  .description('Run LLM agents as two nested, durable loops on Temporal: a planner and its executors.')
  .version(`tandem ${version()}`, '-V, --version', 'print the version')
  .option('--address <host:port>', 'Temporal server (default: $TEMPORAL_ADDRESS, the profile, or localhost:7233)')
  .option('--namespace <namespace>', 'Temporal namespace (default: $TEMPORAL_NAMESPACE, the profile, or default)')
  .option('--profile <name>', 'envconfig profile of the Temporal config file (default: $TEMPORAL_PROFILE or default)')
  .exitOverride()
  // The connection flags work before or after the verb, so each verb's --help lists them too.
  .configureHelp({ showGlobalOptions: true })
  .hook('preAction', (_program, action) => {
    const { address, namespace, profile } = action.optsWithGlobals<{
      address?: string;
      namespace?: string;
      profile?: string;
    }>();
    setConnectionOverrides({ address, namespace, profile });
  });
registerGoalCommands(program);
registerForkCommand(program);
registerControlCommands(program);
registerApprovalCommands(program);
registerScheduleCommands(program);
registerRunCommands(program);
registerServeCommand(program);
program
  .command('completion')
  .description('Print the shell completion script of every verb and flag, for bash, zsh or fish')
  .addArgument(new Argument('<shell>', 'the shell to complete in').choices(COMPLETION_SHELLS))
  .action((shell: CompletionShell) => {
    process.stdout.write(completionScript(program, shell));
  });
addExamples(program);
oneLineParseErrors(program, 'tandem');
// ...except where they are refused: dev and demo run their own server.
for (const verb of program.commands.filter((command) => ['dev', 'demo'].includes(command.name()))) {
  verb.configureHelp({ showGlobalOptions: false });
}

// `tandem watch ID | head -1`: the reader has what it wanted and closed the pipe. That is how pipes end, not a failure,
// so stop quietly with 0 (as `git log | head` does under `set -o pipefail`) instead of dying on an unhandled 'error'.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Already printed by outputError (or it is --help / --version, which exit 0).
    process.exitCode = err.exitCode;
  } else if (err instanceof UserError) {
    console.error(`tandem: ${messageWithCauses(err).split('\n').join(' ')}`);
    process.exitCode = 1;
  } else {
    console.error('tandem: unexpected error, most likely a bug in tandem (please report it with this output):');
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  }
});
