/**
 * The llama-server test helper says at once why a server died (issue 25: a native build killed by SIGILL showed up as
 * "not healthy after 120 s" 21 times over). Fake binaries stand in for llama-server here, since what is tested is the
 * helper's reading of a process, not llama.cpp; test/llama/llama-server.llama.ts kills a real one.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { launchLlamaServer, LlamaServerDied } from './llama/llama-server';

/** A cache folder whose `bin/llama-server` is `script`. */
function fakeCache(script: string): string {
  const cache = mkdtempSync(path.join(tmpdir(), 'fake-llama-'));
  mkdirSync(path.join(cache, 'bin'));
  writeFileSync(path.join(cache, 'bin/llama-server'), script);
  chmodSync(path.join(cache, 'bin/llama-server'), 0o755);
  return cache;
}

/** Loads "a model", then dies of SIGILL, as the native build did on a CPU whose AMX the VM does not run. */
const SIGILL_AT_LOAD = `#!/bin/sh
echo "load_tensors: CPU_REPACK model buffer size = 52.50 MiB" >&2
kill -ILL $$
`;
/** Healthy, then SIGILL on the first completion request: what the issue saw. */
const SIGILL_AT_FIRST_REQUEST = `#!/usr/bin/env python3
import http.server, os, signal, sys
port = int(sys.argv[sys.argv.index('--port') + 1])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'{"status":"ok"}')
    def do_POST(self):
        print('slot launch_slot_: id  0 | task 0 | processing task', file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGILL)
    def log_message(self, *args):
        pass
print('main: server is listening on http://127.0.0.1:%d' % port, file=sys.stderr, flush=True)
http.server.HTTPServer(('127.0.0.1', port), Handler).serve_forever()
`;
const EXIT_1 = `#!/bin/sh
echo "gguf_init_from_file: failed to open GGUF file 'models/x.gguf'" >&2
exit 1
`;
const NEVER_HEALTHY = `#!/bin/sh
echo $$ > "$(dirname "$0")/pid"
echo "loading forever" >&2
exec sleep 60
`;

describe('the llama-server test helper', () => {
  const caches: string[] = [];
  const cache = (script: string) => {
    caches.push(fakeCache(script));
    return caches.at(-1)!;
  };
  afterAll(() => caches.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('reports a server killed by SIGILL while starting at once, with the signal and its last log lines', async () => {
    const started = Date.now();
    const failure = await launchLlamaServer({ cache: cache(SIGILL_AT_LOAD) }).catch((err: unknown) => err);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(failure).toBeInstanceOf(LlamaServerDied);
    const died = failure as LlamaServerDied;
    expect(died.signal).toBe('SIGILL');
    expect(died.during).toBe('startup');
    expect(died.message).toMatch(/^llama-server was killed by SIGILL \(an instruction this CPU does not run/);
    expect(died.message).toContain('while starting');
    expect(died.message).toContain('CPU_REPACK model buffer size = 52.50 MiB');
  });

  it('reports a server that dies of SIGILL on its first request through crashed and assertRunning', async () => {
    const server = await launchLlamaServer({ cache: cache(SIGILL_AT_FIRST_REQUEST), healthTimeoutMs: 20_000 });
    try {
      expect(() => server.assertRunning()).not.toThrow();
      const request = fetch(`${server.baseURL}/chat/completions`, { method: 'POST', body: '{}' });
      await expect(request).rejects.toThrow();
      await expect(server.crashed).rejects.toThrow(/killed by SIGILL .* while serving; its last log lines:\n/s);
      expect(() => server.assertRunning()).toThrow(/processing task/);
    } finally {
      await server.stop();
    }
  });

  it('reports an exit code and the log when the server exits', async () => {
    const failure = await launchLlamaServer({ cache: cache(EXIT_1) }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(LlamaServerDied);
    expect((failure as LlamaServerDied).exitCode).toBe(1);
    expect((failure as Error).message).toMatch(/^llama-server exited with code 1 while starting/);
    expect((failure as Error).message).toContain("failed to open GGUF file 'models/x.gguf'");
  });

  it('gives up on a server that never becomes healthy after the deadline, quoting its log, and leaves none running', async () => {
    const dir = cache(NEVER_HEALTHY);
    const failure = await launchLlamaServer({ cache: dir, healthTimeoutMs: 1_500 }).catch((err: unknown) => err);
    expect((failure as Error).message).toBe(
      'llama-server not healthy after 1.5 s; its last log lines:\nloading forever',
    );
    const pid = Number(readFileSync(path.join(dir, 'bin/pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('fails at once when there is no binary to run', async () => {
    const started = Date.now();
    await expect(launchLlamaServer({ cache: path.join(tmpdir(), 'no-such-llama-cache') })).rejects.toThrow(
      /spawn .*no-such-llama-cache\/bin\/llama-server ENOENT/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('is not reported as dead after stop()', async () => {
    const server = await launchLlamaServer({ cache: cache(SIGILL_AT_FIRST_REQUEST), healthTimeoutMs: 20_000 });
    await server.stop();
    expect(() => server.assertRunning()).not.toThrow();
  });
});
