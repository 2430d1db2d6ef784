/**
 * node/target-check.ts works out the connection target of `status` and `list` without loading envconfig when only
 * the address and namespace variables can set it; it must give what envconfig gives, and step aside whenever
 * anything else could change the answer.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectionTarget } from '../node/connection-target';
import { envOnlyTarget } from '../node/target-check';

describe('the connection target from the environment alone', () => {
  const saved = { ...process.env };
  let home: string;

  /** Sets process.env to `vars` plus an empty HOME (no config file), as envconfig reads it. */
  function useEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
    for (const name of Object.keys(process.env)) if (name.startsWith('TEMPORAL_')) delete process.env[name];
    delete process.env.XDG_CONFIG_HOME;
    delete process.env.APPDATA;
    Object.assign(process.env, { HOME: home }, vars);
    return process.env;
  }

  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-target-'));
  });
  afterEach(async () => {
    process.env = { ...saved };
    await fs.rm(home, { recursive: true, force: true });
  });

  it.each([
    [{}, {}],
    [{ TEMPORAL_ADDRESS: '10.1.2.3:7233', TEMPORAL_NAMESPACE: 'ops' }, {}],
    [{ TEMPORAL_ADDRESS: '10.1.2.3:7233', TEMPORAL_HTTP_ADDRESS: '10.1.2.3:7243' }, { namespace: 'other' }],
    [{ TEMPORAL_NAMESPACE: 'ops' }, { address: '127.0.0.1:9' }],
  ])('gives what envconfig gives for %j with flags %j', (vars, flags) => {
    const env = useEnv(vars);
    expect(envOnlyTarget(flags, env)).toEqual(connectionTarget(flags));
  });

  it('refuses an empty namespace in the same words', () => {
    const env = useEnv({ TEMPORAL_NAMESPACE: '' });
    expect(() => envOnlyTarget({}, env)).toThrow(/^--namespace \(or TEMPORAL_NAMESPACE\) is empty/);
    expect(() => connectionTarget({})).toThrow(/^--namespace \(or TEMPORAL_NAMESPACE\) is empty/);
  });

  it('leaves it to envconfig when a profile, another TEMPORAL_* variable or a config file could change it', async () => {
    expect(envOnlyTarget({ profile: 'cloud' }, useEnv({}))).toBeUndefined();
    expect(envOnlyTarget({}, useEnv({ TEMPORAL_PROFILE: 'cloud' }))).toBeUndefined();
    expect(envOnlyTarget({}, useEnv({ TEMPORAL_API_KEY: 'secret' }))).toBeUndefined();
    expect(envOnlyTarget({}, useEnv({ TEMPORAL_TLS: 'true' }))).toBeUndefined();
    expect(envOnlyTarget({}, useEnv({ TEMPORAL_CONFIG_FILE: path.join(home, 'none.toml') }))).toBeUndefined();
    await fs.mkdir(path.join(home, '.config', 'temporalio'), { recursive: true });
    await fs.writeFile(path.join(home, '.config', 'temporalio', 'temporal.toml'), '[profile.default]\n');
    expect(envOnlyTarget({}, useEnv({}))).toBeUndefined();
  });
});
