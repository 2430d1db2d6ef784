/**
 * What can be checked of the deployment without a Docker engine: docker-compose.yml parses and holds every service
 * and variable the Deployment section of docs/configuration.md names; the Dockerfile is multi-stage, runs as non-root, and builds
 * with the commands CI runs; and the worker's container health check tells a polling worker from none.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { startTandem, type Tandem } from './helpers/tandem';
import { execFile } from 'node:child_process';

const ROOT = path.resolve(__dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  command?: string[];
}

/** The "## Deployment" section of the reference (docs/configuration.md, split from the README). */
function deploymentSection(): string {
  const readme = read('docs/configuration.md');
  const start = readme.indexOf('## Deployment');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The Dockerfile's stages, each as its instruction lines (continuations joined). */
function dockerStages(): string[][] {
  const lines = read('Dockerfile')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('FROM ')) stages.push([]);
    stages[stages.length - 1].push(line);
  }
  return stages;
}

describe('deployment files', () => {
  const compose = load(read('docker-compose.yml')) as { services: Record<string, ComposeService> };

  it('compose runs PostgreSQL-backed Temporal, its Web UI, an S3 store and the worker, each with a health check', () => {
    const { services } = compose;
    expect(Object.keys(services).sort()).toEqual(
      ['postgresql', 's3', 's3-bucket', 'temporal', 'temporal-search-attributes', 'temporal-ui', 'worker'].sort(),
    );
    expect(services.temporal.environment).toEqual(expect.objectContaining({ DB: 'postgres12' }));
    expect(services.worker.build).toBe('.');
    for (const name of ['postgresql', 's3', 'temporal', 'temporal-ui', 'worker']) {
      expect(services[name].healthcheck?.test.length).toBeGreaterThan(0);
    }
    // The one-shot setup registers exactly the search attributes tandem defines.
    const setup = services['temporal-search-attributes'].command!.join(' ');
    for (const name of ['TandemGoal=Text', 'TandemStatus=Keyword', 'TandemPlanVersion=Int', 'TandemTokens=Int']) {
      expect(setup).toContain(name);
    }
    expect(setup).toContain('TandemKey=Keyword');
  });

  it('names in compose every service and variable the deployment docs say it has', () => {
    const section = deploymentSection();
    const services = [...section.matchAll(/^\| `([a-z-]+)`/gm)].map((found) => found[1]);
    expect(services.length).toBeGreaterThanOrEqual(4);
    for (const service of services) expect(Object.keys(compose.services)).toContain(service);
    // A variable is set either by compose (passed through from the shell) or by the image (the Dockerfile's ENV).
    const imageEnv = dockerStages()
      .flat()
      .filter((line) => line.startsWith('ENV '))
      .flatMap((line) => [...line.matchAll(/([A-Z][A-Z0-9_]*)=/g)].map((found) => found[1]));
    const known = [...Object.keys(compose.services.worker.environment!), ...imageEnv];
    const variables = new Set([...section.matchAll(/`([A-Z]+_[A-Z0-9_]+)`/g)].map((found) => found[1]));
    expect(variables.size).toBeGreaterThanOrEqual(8);
    for (const variable of variables) expect(known).toContain(variable);
  });

  it('builds the worker in stages, with the commands CI runs, and runs it as a non-root user', () => {
    const [build, runtime, ...rest] = dockerStages();
    expect(rest).toEqual([]);
    expect(build.join('\n')).toContain('ENV TANDEM_SKIP_TEMPORAL_CLI=1');
    const ci = read('.ci/run').split('\n');
    const buildCommands = build.filter((line) => line.startsWith('RUN ')).map((line) => line.slice(4));
    // The install and the type check are CI's own lines; the build compiles the copied sources, the prune slims.
    expect(buildCommands).toEqual([
      'npm install --no-audit --no-fund',
      'npm run typecheck',
      'npm run build',
      'npm prune --omit=dev',
    ]);
    for (const command of buildCommands.slice(0, 2)) expect(ci).toContain(command);
    expect(runtime).toContain('USER node');
    expect(runtime.some((line) => line.startsWith('COPY --from=build'))).toBe(true);
    expect(runtime.some((line) => line.startsWith('HEALTHCHECK'))).toBe(true);
  });
});

describe("the worker's container health check", () => {
  let tandem: Tandem;
  beforeAll(async () => {
    tandem = await startTandem();
  });
  afterAll(async () => {
    await tandem.stop();
  });

  function healthcheck(taskQueue: string): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        // The compiled health check, as the image runs it (test/helpers/global-setup.ts builds dist/).
        [path.join(ROOT, 'dist/worker/healthcheck.js')],
        { env: { ...process.env, TANDEM_TASK_QUEUE: taskQueue }, cwd: ROOT },
        (error, _stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
      );
    });
  }

  it('is healthy while a worker of this host polls the task queue, and unhealthy without one', async () => {
    expect(await healthcheck(tandem.taskQueue)).toEqual({ code: 0, stderr: '' });
    const idle = await healthcheck('no-worker-here');
    expect(idle.code).toBe(1);
    expect(idle.stderr).toBe('tandem healthcheck: no worker of this host polls "no-worker-here"\n');
  });
});
