/**
 * The operator's view through the real `tandem` process: global flags, one-line errors, exit codes, why a goal
 * failed, calls that keep failing, an executor's own status, transcripts, `watch --json`, `list --limit/--query`.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scriptDemo } from '../dev/demo-model';
import { match, reply } from '../dev/scripted-model';
import type { GoalSummary } from '../client/goal-list';
import { runCli, runCliIntoClosedPipe } from './helpers/cli';
import { eventually } from './helpers/history';
import { startTandem, type Tandem } from './helpers/tandem';

/** A goal that runs to completion with the demo script; its id. */
async function finishedGoal(tandem: Tandem, env: Record<string, string>, label: string): Promise<string> {
  scriptDemo(tandem.model);
  const id = tandem.goalId(label);
  const run = await runCli(['start', 'Compute 17 * 23 + 4 and save it', '--id', id, '--wait'], env);
  expect(run.code).toBe(0);
  return id;
}

describe('the tandem CLI without a server', () => {
  it('prints its version from package.json', async () => {
    const pkg = JSON.parse(await fs.readFile(path.resolve(__dirname, '../package.json'), 'utf8')) as {
      version: string;
    };
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `tandem ${pkg.version}\n`, stderr: '' });
  });

  it.each([
    [['frobnicate'], "tandem: unknown command 'frobnicate'; see: tandem --help"],
    [['stat', 'x'], "tandem: unknown command 'stat' (Did you mean start?); see: tandem --help"],
    [['status', 'x', '--bogus'], "tandem: unknown option '--bogus'; see: tandem status --help"],
    [['transcript'], "tandem: missing required argument 'id'; see: tandem transcript --help"],
    [['list', '--limit', '0'], /^tandem: option '--limit <n>' argument '0' is invalid/],
    [
      ['schedule', 'create', 'x'],
      /^tandem: required option '--cron <expr>' not specified; see: tandem schedule create/,
    ],
    [['dev', '--port', 'x'], /^tandem: option '--port <n>' argument 'x' is invalid. expected a TCP port/],
    [
      ['result', 'a', 'b'],
      "tandem: too many arguments for 'result'. Expected 1 argument but got 2; see: tandem result --help",
    ],
  ])('prints a parse error of `tandem %j` as one line starting "tandem:", exit code 1', async (args, expected) => {
    const run = await runCli(args as string[]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.endsWith('\n')).toBe(true);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    if (typeof expected === 'string') expect(run.stderr.trimEnd()).toBe(expected);
    else expect(run.stderr).toMatch(expected);
  });

  it('names the address in a connection error, whether it comes from --address or from a --profile', async () => {
    const flag = await runCli(['--address', '127.0.0.1:1', 'status', 'x']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/^tandem: cannot reach Temporal at 127\.0\.0\.1:1 .*\n$/);

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-profile-'));
    const configFile = path.join(dir, 'temporal.toml');
    await fs.writeFile(configFile, '[profile.far]\naddress = "127.0.0.1:2"\n');
    const env = { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_ADDRESS: undefined };
    const profile = await runCli(['list', '--profile', 'far'], env);
    expect(profile.code).toBe(1);
    expect(profile.stderr).toMatch(/^tandem: cannot reach Temporal at 127\.0\.0\.1:2 /);
    const missing = await runCli(['--profile', 'nope', 'list'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tandem: cannot read the Temporal connection settings of profile "nope" .*\n$/);
  });

  it.each([
    [['--namespace', '', 'status', 'x'], {}, '--namespace (or TEMPORAL_NAMESPACE)'],
    [['list'], { TEMPORAL_NAMESPACE: '' }, '--namespace (or TEMPORAL_NAMESPACE)'],
    [['--address', ' ', 'list'], {}, '--address (or TEMPORAL_ADDRESS)'],
  ])('refuses an empty connection setting: `tandem %j` with %j', async (args, env, flag) => {
    expect(await runCli(args, env)).toEqual({
      code: 1,
      stdout: '',
      stderr: `tandem: ${flag} is empty: give a value, or leave it out to use the default\n`,
    });
  });

  it('keeps what to do on the line when the Temporal config file is not valid TOML', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-badtoml-'));
    const configFile = path.join(dir, 'temporal.toml');
    await fs.writeFile(configFile, '{bad\n');
    const run = await runCli(['list'], { TEMPORAL_CONFIG_FILE: configFile });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^tandem: cannot read the Temporal connection settings \(Invalid TOML document: [^\n]*\): check --profile or TEMPORAL_PROFILE, and TEMPORAL_CONFIG_FILE .*\n$/,
    );
  });

  it.each([[['status']], [['start']], [['schedule', 'create']], [['approve']]])(
    'lists the connection flags in the --help of `tandem %j`',
    async (verb) => {
      const run = await runCli([...verb, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Global Options:[^]*--address <host:port>[^]*--namespace <namespace>[^]*--profile/);
    },
  );

  it('leaves them out of `tandem dev --help`, which refuses them', async () => {
    const run = await runCli(['dev', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('--address');
  });

  it('says how to build the CLI when dist/ is missing', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-nobuild-'));
    await fs.mkdir(path.join(dir, 'bin'));
    await fs.copyFile(path.resolve(__dirname, '../bin/tandem.cjs'), path.join(dir, 'bin/tandem.cjs'));
    const run = await runCli(['--version'], {}, path.join(dir, 'bin/tandem.cjs'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^tandem: the CLI is not built \(.*dist\/client\/cli\.js is missing\): run "npm run build"/,
    );
  });
});

describe('the tandem CLI (inspecting goals and executors)', () => {
  let tandem: Tandem;
  let env: Record<string, string>;

  beforeAll(async () => {
    tandem = await startTandem();
    env = { TANDEM_TASK_QUEUE: tandem.taskQueue };
  });
  afterAll(async () => {
    await tandem.stop();
  });
  beforeEach(() => tandem.model.reset());

  it('stops quietly with exit code 0 when the reader of its output goes away (`watch ID --json | head -1`)', async () => {
    const id = await finishedGoal(tandem, env, 'epipe');
    for (const args of [
      ['watch', id, '--json'],
      ['watch', id],
      ['status', id, '--json'],
    ]) {
      expect(await runCliIntoClosedPipe(args, env)).toEqual({ code: 0, stderr: '' });
    }
  });

  it('says why a goal failed while planning; result, start --wait and watch exit 2', async () => {
    // An invalid plan no longer fails a goal (the fallback plan runs); an endpoint that refuses the request does.
    tandem.model.on(match.purpose('plan'), reply.error(401, 'Incorrect API key provided'), { repeatLast: true });
    const id = tandem.goalId('planfail');
    const started = await runCli(['start', 'Anything', '--id', id, '--wait'], env);
    expect(started.code).toBe(2);
    expect(started.stdout).toMatch(new RegExp(`^${id} {2}failed\\n\\nfailed: .*HTTP 401.* \\[ModelRequestRejected\\]`));

    const status = await runCli(['status', id], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('plan: none, the goal failed while planning');
    expect(status.stdout).toMatch(/^failed: .*HTTP 401.*\[ModelRequestRejected\]$/m);
    expect(status.stdout).not.toContain('(drafting)');
    const json = JSON.parse((await runCli(['status', id, '--json'], env)).stdout) as Record<string, unknown>;
    expect(json).toEqual(
      expect.objectContaining({
        status: 'failed',
        executionStatus: 'FAILED',
        end: {
          ok: false,
          reason: null,
          failure: { message: expect.stringMatching(/HTTP 401/), type: 'ModelRequestRejected' },
        },
      }),
    );

    const result = await runCli(['result', id, '--json'], env);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual(
      expect.objectContaining({ id, ok: false, executionStatus: 'FAILED', workspace: expect.stringContaining(id) }),
    );
    const watch = await runCli(['watch', id], env);
    expect(watch.code).toBe(2);
    // One vocabulary (docs/endings.md): the ending, then the failure's words; not "failed (failed)".
    expect(watch.stdout.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(`^goal ${id} ended: failed: callModel failed: .*HTTP 401: Incorrect API key provided`),
    );
  });

  it('shows the last error and the attempt number while a model call keeps failing', async () => {
    const unavailable = reply.error(503, 'the model endpoint is overloaded (scripted)');
    tandem.model.on(match.purpose('plan'), [unavailable, unavailable, unavailable]);
    scriptDemo(tandem.model);
    const id = tandem.goalId('retrying');
    expect((await runCli(['start', 'Compute and save', '--id', id], env)).code).toBe(0);

    const status = await eventually(async () => {
      const run = await runCli(['status', id], env);
      return /^! callModel failing, attempt [2-4] of 8: .*overloaded.*\[ModelUnavailable\]$/m.test(run.stdout)
        ? run
        : undefined;
    }, 'status to show the failing plan call');
    expect(status!.stdout).toContain('plan: (drafting)');
    const json = JSON.parse((await runCli(['status', id, '--json'], env)).stdout) as {
      failingCalls: Array<Record<string, unknown>>;
    };
    expect(json.failingCalls[0]).toEqual(
      expect.objectContaining({ workflowId: id, activity: 'callModel', errorType: 'ModelUnavailable' }),
    );

    // The fourth try succeeds: the goal goes on, and watch --json ends on its completion with one line per change.
    const watch = await runCli(['watch', id, '--json'], env);
    expect(watch.code).toBe(0);
    const lines = watch.stdout.trimEnd().split('\n');
    const frames = lines.map((line) => JSON.parse(line) as { executionStatus: string; status: string });
    expect(new Set(lines).size).toBe(lines.length);
    expect(frames.at(-1)).toEqual(expect.objectContaining({ executionStatus: 'COMPLETED', status: 'completed' }));
  });

  it("shows an executor's own progress by its workflow id, and its conversation as a transcript", async () => {
    const id = await finishedGoal(tandem, env, 'executor');
    const status = await runCli(['status', `${id}.v1.s1`], env);
    expect(status.code).toBe(0);
    // A closed executor's header is its ending (docs/endings.md); the goal's subtask table says `done`.
    expect(status.stdout).toMatch(new RegExp(`^${id}\\.v1\\.s1 {2}completed {2}step 2 {2}\\d+ tokens$`, 'm'));
    expect(status.stdout).toContain(`subtask s1 of goal ${id}`);
    expect(status.stdout).toContain('✓ calculator {"expression":"17 * 23 + 4"}');
    expect(status.stdout).toContain(`conversation: tandem transcript ${id} s1`);

    const transcript = await runCli(['transcript', id, 's1'], env);
    expect(transcript.code).toBe(0);
    expect(transcript.stdout).toContain('── user ──\nCompute 17 * 23 + 4 with the calculator.');
    expect(transcript.stdout).toMatch(/── assistant · step 1 ──\n→ calculator\(\{"expression":"17 \* 23 \+ 4"\}\)/);
    expect(transcript.stdout).toMatch(/── tool result \[[^\]]+\] ──\n395/);
    expect(transcript.stdout).toContain('── assistant · step 2 ──\n17 * 23 + 4 = 395');

    const json = JSON.parse((await runCli(['transcript', id, 's2', '--json'], env)).stdout) as {
      workflowId: string;
      messages: Array<{ role: string }>;
    };
    expect(json.workflowId).toBe(`${id}.v1.s2`);
    expect(json.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    const byExecutorId = await runCli(['transcript', `${id}.v1.s2`, '--json'], env);
    expect(JSON.parse(byExecutorId.stdout)).toEqual(json);

    const unknown = await runCli(['transcript', id, 's9'], env);
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr: `tandem: goal "${id}" has no subtask "s9" that ran; its subtasks: s1, s2\n`,
    });
  });

  it('says a subtask that has not started has no conversation yet, instead of a stack trace', async () => {
    // s1 never answers, so s2 (which depends on it) stays pending.
    tandem.model.on(match.purpose('step', 's1'), reply.hang(), { repeatLast: true });
    scriptDemo(tandem.model);
    const id = `pending-${randomUUID().slice(0, 6)}`;
    expect((await runCli(['start', 'Compute 17 * 23 + 4 and save it', '--id', id], env)).code).toBe(0);
    try {
      await tandem.model.waitForRequests(1, { match: match.purpose('step', 's1') });
      for (const args of [
        ['transcript', id, 's2'],
        ['transcript', id, 's2', '--json'],
      ]) {
        expect(await runCli(args, env)).toEqual({
          code: 1,
          stdout: '',
          stderr:
            `tandem: subtask s2 of "${id}" has not started yet (pending), so it has no conversation; ` +
            `follow the goal with: tandem watch ${id}\n`,
        });
      }
    } finally {
      await runCli(['cancel', id], env);
    }
  });

  it("names the goal when a goal's verb gets an executor id, and refuses an executor with another subtask", async () => {
    const id = await finishedGoal(tandem, env, 'exec-as-goal');
    const executor = `${id}.v1.s1`;
    for (const args of [
      ['result', executor],
      ['history', executor],
      ['cancel', executor],
      ['approvals', executor],
    ]) {
      expect(await runCli(args, env)).toEqual({
        code: 1,
        stdout: '',
        stderr: `tandem: "${executor}" is an executor (one subtask), not a goal; pass its goal's id: ${id}\n`,
      });
    }
    expect(await runCli(['transcript', executor, 's2'], env)).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `tandem: "${executor}" is the executor of subtask s1, not s2: pass the goal's id with the subtask ` +
        `(tandem transcript ${id} s2)\n`,
    });
    expect((await runCli(['transcript', executor, 's1'], env)).code).toBe(0);
  });

  it('prints the workspace with the result, and exits 2 for a goal that ran out of budget', async () => {
    const id = await finishedGoal(tandem, env, 'workspace');
    const result = await runCli(['result', id], env);
    expect(result.code).toBe(0);
    const workspace = /^workspace: (.+)$/m.exec(result.stdout)?.[1];
    expect(await fs.readFile(path.join(workspace!, 'answer.txt'), 'utf8')).toBe('395\n');
    expect(JSON.parse((await runCli(['result', id, '--json'], env)).stdout).workspace).toBe(workspace);

    scriptDemo(tandem.model);
    const broke = tandem.goalId('broke');
    const started = await runCli(['start', 'Compute and save', '--id', broke, '--max-tokens', '150', '--wait'], env);
    expect(started.code).toBe(2);
    expect(started.stdout).toContain('ended without an ok result: budget_exhausted');
    expect((await runCli(['result', broke], env)).code).toBe(2);
    expect((await runCli(['watch', broke], env)).code).toBe(2);
  });

  it('lists goals under a header row, at most --limit of them, narrowed by --query', async () => {
    const first = await finishedGoal(tandem, env, 'listed');
    const second = await finishedGoal(tandem, env, 'listed');
    const limited = await eventually(async () => {
      const run = await runCli(['list', '--limit', '1', '--query', `WorkflowId = '${second}'`], env);
      return run.stdout.includes(second) ? run : undefined;
    }, 'the goal to reach the visibility store');
    const lines = limited!.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+STARTED\s+TOKENS\s+GOAL$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^${second}\\s+completed\\s`));

    const both = `WorkflowId IN ('${first}', '${second}')`;
    const two = await eventually(async () => {
      const run = await runCli(['list', '--query', both, '--json'], env);
      const goals = JSON.parse(run.stdout) as GoalSummary[];
      return goals.length === 2 ? goals : undefined;
    }, 'both goals to be listed');
    expect(two!.map((goal) => goal.id)).toEqual([second, first]);
    const one = JSON.parse((await runCli(['list', '--query', both, '--limit', '1', '--json'], env)).stdout);
    expect(one).toHaveLength(1);

    const bad = await runCli(['list', '--query', 'NoSuchAttribute = 1'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tandem: the server refused --query "NoSuchAttribute = 1": .*\n$/);
  });

  it('refuses --address for dev, which runs its own server', async () => {
    const run = await runCli(['--address', 'example.com:7233', 'dev']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^tandem: tandem dev runs its own local server, so --address and --profile do not apply/,
    );
  });

  it('names the namespace when it does not exist', async () => {
    const namespace = `nope-${randomUUID().slice(0, 6)}`;
    const run = await runCli(['--namespace', namespace, 'list'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(namespace);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
