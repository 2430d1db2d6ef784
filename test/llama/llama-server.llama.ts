/**
 * `npm run test:llama`, part 0: the provisioned llama-server itself (issue 25). Its build uses only its flavour's
 * instruction set, so it runs wherever the cache is copied (no AVX-512 or AMX code, which a native build on this
 * machine's CPU would contain), and a real server that dies is reported with its signal and its own last log lines.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LlamaServerDied, startLlamaServer } from './llama-server';

/** Instructions a portable x86-64-v3 build must not contain: AVX-512 (zmm registers, mask registers) and AMX tiles. */
const NOT_PORTABLE = /%zmm\d|%k[1-7]\b|\b(?:ldtilecfg|tileloadd|tdpb[su][su]d|tdpbf16ps|tilestored)\b/;

describe('the provisioned llama-server', () => {
  it('is built for its flavour, with no AVX-512 or AMX instructions in the binary or its libraries', async () => {
    const server = await startLlamaServer();
    await server.stop();
    const cache = path.dirname(path.dirname(server.binary));
    const flavour = readFileSync(path.join(cache, 'bin/flavour'), 'utf8').trim();
    expect(['x86-64-v3', 'x86-64-v2']).toContain(flavour);
    expect(path.basename(cache)).toBe(`11434.0.0-${flavour}`);
    const files = readdirSync(path.join(cache, 'bin')).filter((name) => /^llama-server$|\.so(\.\d+)*$/.test(name));
    expect(files).toEqual(expect.arrayContaining(['llama-server', 'libggml-cpu.so']));
    const offending: string[] = [];
    for (const file of files) {
      const disassembly = execFileSync('objdump', ['-d', '--no-show-raw-insn', path.join(cache, 'bin', file)], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      });
      const lines = disassembly.split('\n').filter((line) => NOT_PORTABLE.test(line));
      if (lines.length) offending.push(`${file}: ${lines.length} lines, e.g. ${lines[0].trim()}`);
    }
    expect(offending).toEqual([]);
  }, 600_000);

  it('reports a real server killed by SIGILL at once, with the signal and its last log lines', async () => {
    const server = await startLlamaServer();
    try {
      process.kill(server.pid, 'SIGILL');
      const started = Date.now();
      const died = await server.crashed.catch((err: unknown) => err);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(died).toBeInstanceOf(LlamaServerDied);
      expect((died as LlamaServerDied).signal).toBe('SIGILL');
      expect((died as Error).message).toMatch(/^llama-server was killed by SIGILL \(.*\) while serving; its last log/);
      // The last lines llama-server itself wrote, as it wrote them.
      const { logTail } = died as LlamaServerDied;
      expect(logTail).toMatch(/\S/);
      expect(server.log().trimEnd().endsWith(logTail)).toBe(true);
      expect(() => server.assertRunning()).toThrow(LlamaServerDied);
    } finally {
      await server.stop();
    }
  }, 300_000);
});
