/**
 * scripts/provision-llama.sh never hands the llama suite a binary built for another CPU (issue 25): a cache or a
 * build tree of another flavour, or a native build, is refused with what to do, before anything is downloaded or
 * built. The build itself, and that its binary runs, is what `npm run test:llama` checks (test/llama/*.llama.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../scripts/provision-llama.sh');
/** The flavour the script picks on this machine: x86-64-v3 where the CPU has AVX2, FMA, F16C and BMI2. */
const THIS_FLAVOUR =
  process.arch !== 'x64'
    ? 'generic'
    : ['avx', 'avx2', 'fma', 'f16c', 'bmi2'].every((flag) =>
          new RegExp(`^flags\\s*:.* ${flag}( |$)`, 'm').test(readFileSync('/proc/cpuinfo', 'utf8')),
        )
      ? 'x86-64-v3'
      : 'x86-64-v2';

function provision(env: Record<string, string>) {
  const run = spawnSync('bash', [SCRIPT], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stderr: run.stderr.trim(), stdout: run.stdout.trim() };
}

describe('provision-llama.sh', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'provision-llama-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A cache whose bin/llama-server exists, with the given flavour file (none: a build from before flavours). */
  function cacheWith(flavour?: string): string {
    mkdirSync(path.join(dir, 'cache/bin'), { recursive: true });
    writeFileSync(path.join(dir, 'cache/bin/llama-server'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'cache/bin/llama-server'), 0o755);
    if (flavour) writeFileSync(path.join(dir, 'cache/bin/flavour'), `${flavour}\n`);
    return path.join(dir, 'cache');
  }

  it('refuses a cached llama-server from before build flavours (a native build) instead of running it', () => {
    const cache = cacheWith();
    const run = provision({ TANDEM_LLAMA_CACHE: cache, TANDEM_LLAMA_FLAVOUR: 'x86-64-v2' });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `provision-llama: ${cache}/bin holds a llama-server built as 'native', not x86-64-v2; delete ${cache}/bin and ` +
        'run this again',
    );
  });

  it('refuses a cached llama-server of another flavour', () => {
    const cache = cacheWith('x86-64-v3');
    const run = provision({ TANDEM_LLAMA_CACHE: cache, TANDEM_LLAMA_FLAVOUR: 'x86-64-v2' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`built as 'x86-64-v3', not x86-64-v2`);
  });

  it('refuses to adopt a build tree configured natively, naming the options it needs', () => {
    mkdirSync(path.join(dir, 'build/bin'), { recursive: true });
    writeFileSync(path.join(dir, 'build/bin/llama-server'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'build/bin/llama-server'), 0o755);
    writeFileSync(path.join(dir, 'build/CMakeCache.txt'), 'GGML_NATIVE:BOOL=ON\nGGML_AVX:BOOL=OFF\n');
    const run = provision({
      TANDEM_LLAMA_CACHE: path.join(dir, 'cache'),
      TANDEM_LLAMA_BUILD_DIR: path.join(dir, 'build/bin'),
      TANDEM_LLAMA_FLAVOUR: 'x86-64-v2',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^provision-llama: TANDEM_LLAMA_BUILD_DIR=.*\/build\/bin holds no llama-server configured as x86-64-v2 \(its \.\.\/CMakeCache\.txt must show GGML_NATIVE=OFF and -DGGML_SSE42=ON -DGGML_AVX=OFF .*\); unset it to build one$/,
    );
  });

  it('refuses a flavour it does not know, listing the ones it does', () => {
    const run = provision({ TANDEM_LLAMA_CACHE: path.join(dir, 'cache'), TANDEM_LLAMA_FLAVOUR: 'native' });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'provision-llama: TANDEM_LLAMA_FLAVOUR=native is not a flavour; use x86-64-v3, x86-64-v2 or generic',
    );
  });

  it(`keys the default cache by version and flavour (${THIS_FLAVOUR} on this CPU)`, () => {
    // A cache of the right flavour whose binary cannot run: the script gets as far as checking it, and names it.
    const home = path.join(dir, 'home');
    mkdirSync(path.join(home, `.cache/tandem/llama-server/11434.0.0-${THIS_FLAVOUR}/bin`), { recursive: true });
    const cache = path.join(home, `.cache/tandem/llama-server/11434.0.0-${THIS_FLAVOUR}`);
    writeFileSync(path.join(cache, 'bin/llama-server'), '#!/bin/sh\nexit 3\n');
    chmodSync(path.join(cache, 'bin/llama-server'), 0o755);
    writeFileSync(path.join(cache, 'bin/flavour'), `${THIS_FLAVOUR}\n`);
    for (const sub of ['templates/Qwen-Qwen2.5-7B-Instruct.jinja', 'models/SmolLM2-135M-Instruct.Q4_1.gguf']) {
      mkdirSync(path.dirname(path.join(cache, sub)), { recursive: true });
      writeFileSync(path.join(cache, sub), 'x');
    }
    // XDG_CACHE_HOME empty: the default cache is then under $HOME/.cache, whatever the caller's environment says.
    const run = provision({ HOME: home, XDG_CACHE_HOME: '', TANDEM_LLAMA_CACHE: '', TANDEM_LLAMA_FLAVOUR: '' });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `provision-llama: the llama-server in ${cache}/bin does not run; delete ${cache}/bin and run this again`,
    );
  });
});
