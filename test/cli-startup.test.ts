/**
 * What the CLI costs before it does anything: which libraries a light verb loads, how fast a verb with no server
 * answers, and which addresses it refuses before it tries. No Temporal server is needed (nor asked) by these tests.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers/cli';

/** The libraries a verb that talks to no server must never load: each costs a light verb tens of milliseconds. */
const HEAVY = /node_modules\/(@temporalio\/[^/]+|@modelcontextprotocol\/sdk|zod|openai|mathjs|js-tiktoken)\//;

let dir: string;
/** A `--require` preload that writes every module the process loaded to $LOADED_MODULES_FILE at exit. */
let recorder: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-startup-'));
  recorder = path.join(dir, 'record-modules.cjs');
  await fs.writeFile(
    recorder,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_MODULES_FILE, " +
      "Object.keys(require.cache).join('\\n')));\n",
  );
});

afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** A loopback port nobody listens on: bound, then closed, so the kernel refuses connections to it at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the CLI at start-up', () => {
  it.each([[['--version']], [['--help']], [['start', '--help']], [['list', '--help']], [['completion', 'bash']]])(
    '`tandem %j` loads neither the Temporal SDK, the MCP SDK nor zod',
    async (args) => {
      const file = path.join(dir, `${args.join('_')}.txt`);
      const run = await runCli(args, { NODE_OPTIONS: `--require ${recorder}`, LOADED_MODULES_FILE: file });
      expect(run.code).toBe(0);
      const heavy = (await fs.readFile(file, 'utf8')).split('\n').filter((module) => HEAVY.test(module));
      expect(heavy).toEqual([]);
    },
  );

  // The figure (under 1.5 s on an idle machine) is measured by `npm run bench` (docs/bench.md); a timed test would fail
  // on a loaded machine. What makes it fast is asserted here instead: the verb fails before it loads the Temporal gRPC
  // client, so no connection retries run (the old code took 5.5-9 s retrying); the bound only rules out such a loop.
  const NO_RETRY_LOOP_MS = 5_000;

  it('answers at once when no server listens, naming the address and how to start one', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const file = path.join(dir, 'no-server.txt');
    const started = performance.now();
    const run = await runCli(['status', 'any-goal', '--address', address], {
      NODE_OPTIONS: `--require ${recorder}`,
      LOADED_MODULES_FILE: file,
    });
    const elapsedMs = performance.now() - started;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^tandem: cannot reach Temporal at ${address} .*start one with "tandem dev"`),
    );
    const temporal = (await fs.readFile(file, 'utf8'))
      .split('\n')
      .filter((module) => /@temporalio\/(client|proto)\//.test(module));
    expect(temporal).toEqual([]);
    expect(elapsedMs).toBeLessThan(NO_RETRY_LOOP_MS);
  });

  it('answers at once for a host that does not resolve', async () => {
    const started = performance.now();
    const run = await runCli(['list'], { TEMPORAL_ADDRESS: 'no-such-host.invalid:7233' });
    expect(performance.now() - started).toBeLessThan(NO_RETRY_LOOP_MS);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tandem: cannot reach Temporal at no-such-host\.invalid:7233 \(TCP ENOTFOUND\)/);
  });

  it.each([
    [['--address', 'localhost'], {}, /^tandem: --address "localhost" is not host:port: .* e\.g\. localhost:7233/],
    [['--address', '[::1]'], {}, /^tandem: --address "\[::1\]" is not host:port/],
    [['--address', 'localhost:99999'], {}, /^tandem: --address "localhost:99999" is not host:port: .*localhost:7233/],
    [
      [],
      { TEMPORAL_ADDRESS: 'temporal.internal' },
      /^tandem: TEMPORAL_ADDRESS \(or the profile\) "temporal\.internal"/,
    ],
  ])('refuses the address of `%j` %j without a port instead of assuming 7233', async (flags, env, message) => {
    const run = await runCli(['status', 'any-goal', ...flags], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses an unknown tool in --approve before it asks any server', async () => {
    const run = await runCli([
      'start',
      'x',
      '--approve',
      'calculator,rm_rf',
      '--address',
      `127.0.0.1:${await closedPort()}`,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^tandem: option '--approve <tools>' argument 'calculator,rm_rf' is invalid\. unknown tool "rm_rf"/,
    );
  });
});

/** The verbs a `--help` lists under "Commands:", but commander's own `help`. */
function verbsIn(help: string): string[] {
  const commands = help.slice(help.indexOf('Commands:'));
  return [...commands.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((found) => found[1]!).filter((verb) => verb !== 'help');
}

/** What the bash completion of `tandem completion bash` offers for `words`, the last one being completed. */
async function bashCompletes(script: string, words: string[]): Promise<string[]> {
  const file = path.join(dir, 'tandem.bash');
  await fs.writeFile(file, script);
  const program = `source ${file}; COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${
    words.length - 1
  }; _tandem; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return new Promise((resolve, reject) =>
    execFile('bash', ['-c', program], (error, stdout) =>
      error ? reject(error) : resolve(stdout.split('\n').filter(Boolean)),
    ),
  );
}

describe('help and completion', () => {
  it("ends every verb's --help, sub-verbs included, with an example of it", async () => {
    const verbs = verbsIn((await runCli(['--help'])).stdout);
    expect(verbs).toEqual(expect.arrayContaining(['start', 'status', 'list', 'schedule', 'dev', 'completion']));
    const paths = [...verbs.map((verb) => [verb])];
    paths.push(...verbsIn((await runCli(['schedule', '--help'])).stdout).map((sub) => ['schedule', sub]));
    for (const verb of paths) {
      const help = (await runCli([...verb, '--help'])).stdout;
      expect({ verb, examples: help.match(/\nExamples:\n( {2}\$ .+\n)+$/)?.[0] ?? 'none' }).toEqual({
        verb,
        examples: expect.stringContaining(`tandem ${verb.join(' ')}`),
      });
    }
  });

  it('completes verbs, sub-verbs and flags in bash', async () => {
    const run = await runCli(['completion', 'bash']);
    expect(run.code).toBe(0);
    expect(await bashCompletes(run.stdout, ['tandem', 'st'])).toEqual(['start', 'status']);
    expect(await bashCompletes(run.stdout, ['tandem', 'start', '--max'])).toEqual([
      '--max-subtask-steps',
      '--max-goal-steps',
      '--max-goal-tokens',
      '--max-cost',
      '--max-steps',
      '--max-tokens',
      '--max-parallel',
    ]);
    expect(await bashCompletes(run.stdout, ['tandem', 'schedule', ''])).toEqual(['create', 'list', 'delete']);
    expect(await bashCompletes(run.stdout, ['tandem', 'schedule', 'create', '--c'])).toEqual(['--cron']);
    expect(await bashCompletes(run.stdout, ['tandem', 'status', '--add'])).toEqual(['--address']);
  });

  it('prints zsh and fish scripts that name every verb, and refuses another shell', async () => {
    const zsh = await runCli(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef tandem\n/);
    expect(zsh.stdout).toContain('bashcompinit');
    const fish = (await runCli(['completion', 'fish'])).stdout;
    for (const verb of verbsIn((await runCli(['--help'])).stdout)) {
      expect(fish).toContain(`complete -c tandem -n '__fish_use_subcommand' -a ${verb} `);
    }
    expect(fish).toContain("complete -c tandem -n '__fish_seen_subcommand_from start' -l max-steps -r");
    const tcsh = await runCli(['completion', 'tcsh']);
    expect(tcsh.code).toBe(1);
    expect(tcsh.stderr).toMatch(
      /^tandem: command-argument value 'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish/,
    );
  });
});
