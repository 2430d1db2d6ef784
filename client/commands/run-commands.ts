/**
 * The verbs that run tandem itself: worker, dev, demo. They load the worker (and with it the workflow bundler, the
 * activities and their libraries) only when one of them runs.
 */
import type { Command } from 'commander';
import { UserError } from '../../node/errors';
import { connectionOverrides, EXIT_GOAL_NOT_OK, tcpPort } from './shared';

interface EmbeddedFlags {
  port?: number;
  uiPort?: number;
}

/** `dev` and `demo` start their own server: `--address` would point elsewhere, so it is refused, not ignored. */
function embeddedOptions(verb: string, flags: EmbeddedFlags) {
  const { address, namespace, profile } = connectionOverrides();
  if (address !== undefined || profile !== undefined) {
    throw new UserError(
      `tandem ${verb} runs its own local server, so --address and --profile do not apply; use --port to choose ` +
        `its port, or run "tandem worker --address ..." against another server`,
    );
  }
  return { port: flags.port, uiPort: flags.uiPort, namespace };
}

/** Registers the long-running verbs on `program`. */
export function registerRunCommands(program: Command): void {
  program
    .command('worker')
    .description('Run a worker for the planner and executor workflows until Ctrl-C')
    .action(async () => {
      const { installLogger, runWorker } = await import('../../worker/worker');
      const { temporalSettings } = await import('../../node/connection');
      installLogger();
      await runWorker(console.log, temporalSettings(connectionOverrides()));
    });

  program
    .command('dev')
    .description(
      'Start the local Temporal dev server (with its Web UI) and a worker, until Ctrl-C; ' +
        'with no OPENAI_BASE_URL, the scripted demo model too',
    )
    .option('--port <n>', 'gRPC port of the dev server (default: $TANDEM_DEV_PORT or 7233)', tcpPort)
    .option('--ui-port <n>', 'port of its Web UI (default: $TANDEM_UI_PORT or 8233)', tcpPort)
    .action(async (flags: EmbeddedFlags) => {
      const { runDev } = await import('../dev');
      await runDev(embeddedOptions('dev', flags));
    });

  program
    .command('demo')
    .description('Run a demo goal end to end on the local dev server (scripted model unless OPENAI_BASE_URL is set)')
    .option('--goal <goal>', 'the goal to run', 'Compute 17 * 23 + 4 and save the result to answer.txt')
    .option('--exit', 'stop the dev server when the goal is done instead of serving the Web UI until Ctrl-C')
    .option('--port <n>', 'gRPC port of the dev server (default: $TANDEM_DEV_PORT or 7233)', tcpPort)
    .option('--ui-port <n>', 'port of its Web UI (default: $TANDEM_UI_PORT or 8233)', tcpPort)
    .action(async (opts: EmbeddedFlags & { goal: string; exit?: boolean }) => {
      const { runDemo } = await import('../dev');
      const { ok } = await runDemo({ ...embeddedOptions('demo', opts), goal: opts.goal, exit: opts.exit });
      if (!ok) process.exitCode = EXIT_GOAL_NOT_OK;
    });
}
