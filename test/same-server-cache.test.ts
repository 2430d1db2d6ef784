/** node/same-server-cache.ts: pairs of addresses found to be one server, remembered for an hour, in a file. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rememberedClusterId, rememberSameServer } from '../node/same-server-cache';

describe('the addresses found to be one server', () => {
  let env: NodeJS.ProcessEnv;
  let file: string;
  beforeEach(async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-same-server-'));
    env = { XDG_CACHE_HOME: dir };
    file = path.join(dir, 'tandem', 'same-server.json');
  });

  it('are remembered for an hour, by both addresses', () => {
    const now = 1_800_000_000_000;
    rememberSameServer('127.0.0.1:7233', 'http://127.0.0.1:7243', 'cluster-a', env, now);
    expect(rememberedClusterId('127.0.0.1:7233', 'http://127.0.0.1:7243', env, now + 59 * 60_000)).toBe('cluster-a');
    expect(rememberedClusterId('127.0.0.1:7233', 'http://127.0.0.1:7243', env, now + 60 * 60_000)).toBeUndefined();
    // A clock set back does not make an old entry new.
    expect(rememberedClusterId('127.0.0.1:7233', 'http://127.0.0.1:7243', env, now - 1)).toBeUndefined();
    expect(rememberedClusterId('127.0.0.1:7234', 'http://127.0.0.1:7243', env, now)).toBeUndefined();
    expect(rememberedClusterId('127.0.0.1:7233', 'http://127.0.0.1:7244', env, now)).toBeUndefined();
  });

  it('keeps the newest check of a pair and at most 32 pairs', () => {
    const now = 1_800_000_000_000;
    rememberSameServer('a:1', 'http://a:11', 'old', env, now);
    rememberSameServer('a:1', 'http://a:11', 'new', env, now + 1);
    expect(rememberedClusterId('a:1', 'http://a:11', env, now + 2)).toBe('new');
    for (let port = 2; port < 40; port++)
      rememberSameServer(`a:${port}`, `http://a:${port + 10}`, 'c', env, now + port);
    expect(rememberedClusterId('a:1', 'http://a:11', env, now + 50)).toBeUndefined();
    expect(rememberedClusterId('a:39', 'http://a:49', env, now + 50)).toBe('c');
  });

  it('is a cache: a corrupt file or an unwritable folder is as if empty, never an error', async () => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, '{not json');
    expect(rememberedClusterId('a:1', 'http://a:11', env)).toBeUndefined();
    rememberSameServer('a:1', 'http://a:11', 'c', env);
    expect(rememberedClusterId('a:1', 'http://a:11', env)).toBe('c');
    const blocked = { XDG_CACHE_HOME: path.join(file, 'not-a-folder') };
    expect(() => rememberSameServer('a:1', 'http://a:11', 'c', blocked)).not.toThrow();
    expect(rememberedClusterId('a:1', 'http://a:11', blocked)).toBeUndefined();
  });
});
