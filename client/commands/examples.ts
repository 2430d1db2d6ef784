/**
 * One example per verb, shown at the end of its `--help`. In one table rather than beside each definition so a
 * verb without one is caught in one place: {@link addExamples} refuses to register a verb that has none.
 */
import type { Command } from 'commander';

/** Keyed by the verb's path under `tandem` (`schedule create`); each line is one command a user can paste. */
const EXAMPLES: Record<string, string[]> = {
  start: ['tandem start "Compute 17 * 23 + 4 and save it" --wait', 'tandem start --goal-file goal.md --max-steps 30'],
  status: ['tandem status goal-3f2a', 'tandem status goal-3f2a --json | jq .end'],
  watch: ['tandem watch goal-3f2a'],
  result: ['tandem result goal-3f2a --json | jq .report'],
  list: ['tandem list --status failed', `tandem list --query "TandemKey = 'nightly'" --limit 5`],
  history: ['tandem history goal-3f2a'],
  transcript: ['tandem transcript goal-3f2a s1'],
  fork: [
    'tandem fork goal-3f2a --subtask s2 --step 3 --interrupt "write to notes/, not /tmp"',
    'tandem fork goal-3f2a --plan-version 1 --id goal-3f2a-retry',
  ],
  output: ['tandem output goal-3f2a sha256:9f86d0…'],
  replan: ['tandem replan goal-3f2a "the API moved to /v2; use it"'],
  interrupt: ['tandem interrupt goal-3f2a "use metric units" --subtask s2'],
  pause: ['tandem pause goal-3f2a'],
  resume: ['tandem resume goal-3f2a'],
  cancel: ['tandem cancel goal-3f2a'],
  tools: ['TANDEM_MCP_CONFIG=mcp.json tandem tools --json'],
  approvals: ['tandem approvals goal-3f2a'],
  approve: ['tandem approve goal-3f2a v1.s1:2:call_abc'],
  deny: ['tandem deny goal-3f2a v1.s1:2:call_abc --reason "not on production"'],
  schedule: ['tandem schedule create --cron "0 6 * * *" "Summarise yesterday\'s logs"'],
  'schedule create': ['tandem schedule create --cron "0 6 * * *" --key nightly "Summarise yesterday\'s logs"'],
  'schedule list': ['tandem schedule list --json'],
  'schedule delete': ['tandem schedule delete nightly-logs'],
  worker: ['TEMPORAL_ADDRESS=temporal.internal:7233 tandem worker'],
  dev: ['tandem dev --port 7244 --ui-port 8244'],
  demo: ['tandem demo --exit'],
  serve: ['tandem serve --port 8787', 'curl -N localhost:8787/goals/goal-3f2a/events'],
  completion: ['source <(tandem completion bash)', 'tandem completion fish > ~/.config/fish/completions/tandem.fish'],
};

/**
 * Appends "Examples:" to the help of every verb under `command`.
 *
 * @throws Error naming the verb when one has no example (a bug caught by the first `tandem --help`, and by tests).
 */
export function addExamples(command: Command, prefix = ''): void {
  for (const verb of command.commands) {
    if (verb.name() === 'help') continue;
    const path = `${prefix}${verb.name()}`;
    const examples = EXAMPLES[path];
    if (!examples) throw new Error(`tandem ${path} has no example: add one to client/commands/examples.ts`);
    verb.addHelpText('after', `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}`);
    addExamples(verb, `${path} `);
  }
}
