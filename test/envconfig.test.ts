import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { temporalSettings } from '../node/connection';
import { runCli } from './helpers/cli';

/** The variables that would override a profile; cleared so the file's values show through. */
const OVERRIDES = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_PROFILE'] as const;

describe('connection settings from an envconfig TOML profile', () => {
  let dir: string;
  let configFile: string;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tandem-envconfig-'));
    await fs.writeFile(path.join(dir, 'client.pem'), 'CLIENT CERT');
    await fs.writeFile(path.join(dir, 'client.key'), 'CLIENT KEY');
    configFile = path.join(dir, 'temporal.toml');
    await fs.writeFile(
      configFile,
      [
        '[profile.default]',
        `address = "${process.env.TEMPORAL_ADDRESS}"`,
        'namespace = "default"',
        '',
        '[profile.cloud]',
        'address = "my-ns.a1b2c.tmprl.cloud:7233"',
        'namespace = "my-ns.a1b2c"',
        '',
        '[profile.cloud.tls]',
        `client_cert_path = "${path.join(dir, 'client.pem')}"`,
        `client_key_path = "${path.join(dir, 'client.key')}"`,
        '',
        '[profile.unreachable]',
        'address = "127.0.0.1:1"',
      ].join('\n'),
    );
    for (const name of OVERRIDES) saved[name] = process.env[name];
  });
  afterEach(() => {
    for (const name of OVERRIDES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    delete process.env.TEMPORAL_CONFIG_FILE;
  });

  function useProfile(profile: string): void {
    for (const name of OVERRIDES) delete process.env[name];
    process.env.TEMPORAL_CONFIG_FILE = configFile;
    process.env.TEMPORAL_PROFILE = profile;
  }

  it('reads address, namespace and TLS client cert/key of the profile TEMPORAL_PROFILE names', () => {
    useProfile('cloud');
    const settings = temporalSettings();
    expect(settings.connectionOptions.address).toBe('my-ns.a1b2c.tmprl.cloud:7233');
    expect(settings.namespace).toBe('my-ns.a1b2c');
    expect(settings.connectionOptions.tls).toEqual(
      expect.objectContaining({
        clientCertPair: { crt: Buffer.from('CLIENT CERT'), key: Buffer.from('CLIENT KEY') },
      }),
    );
  });

  it('lets TEMPORAL_* variables override the profile', () => {
    useProfile('cloud');
    process.env.TEMPORAL_NAMESPACE = 'other';
    process.env.TEMPORAL_API_KEY = 'key-from-env';
    const settings = temporalSettings();
    expect(settings.namespace).toBe('other');
    expect(settings.connectionOptions.apiKey).toBe('key-from-env');
  });

  it('connects the CLI through the profile', async () => {
    const env = { TEMPORAL_ADDRESS: undefined, TEMPORAL_NAMESPACE: undefined, TEMPORAL_CONFIG_FILE: configFile };
    const listed = await runCli(['list', '--json'], { ...env, TEMPORAL_PROFILE: 'default' });
    expect(listed.code).toBe(0);
    expect(Array.isArray(JSON.parse(listed.stdout))).toBe(true);

    const unreachable = await runCli(['list'], { ...env, TEMPORAL_PROFILE: 'unreachable' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^tandem: cannot reach Temporal at 127\.0\.0\.1:1 /);
  });
});
