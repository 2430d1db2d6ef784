import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type DevServer, DevServerError, freePort, isListening, startDevServer } from '../dev/dev-server';
import { TANDEM_SEARCH_ATTRIBUTES } from '../common/contract';

// The steps build on each other (start, reuse, stop, restart on the same file), so they share one server and run in
// order. Free ports keep this file clear of the shared 7233/8233 server and of other test files running in parallel.
describe('startDevServer', () => {
  let stateDir: string;
  let dbFile: string;
  let port: number;
  let server: DevServer | undefined;

  const address = () => `127.0.0.1:${port}`;
  const withConnection = async <T>(fn: (connection: Connection) => Promise<T>): Promise<T> => {
    const connection = await Connection.connect({ address: address() });
    try {
      return await fn(connection);
    } finally {
      await connection.close();
    }
  };

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'tandem-dev-server-'));
    dbFile = path.join(stateDir, 'temporal.db');
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts a server on free ports it picks (port 0) that answers GetSystemInfo', async () => {
    server = await startDevServer({ port: 0, uiPort: 0, dbFile, headless: true });
    port = Number(server.address.split(':').at(-1));

    expect(port).toBeGreaterThan(0);
    expect(server).toMatchObject({ uiUrl: null, reused: false });
    const info = await withConnection((connection) => connection.workflowService.getSystemInfo({}));
    expect(info.serverVersion).toBeTruthy();
  });

  it('registers every tandem search attribute in the default namespace', async () => {
    const { customAttributes } = await withConnection((connection) =>
      connection.operatorService.listSearchAttributes({ namespace: 'default' }),
    );

    for (const { name } of TANDEM_SEARCH_ATTRIBUTES) expect(Object.keys(customAttributes ?? {})).toContain(name);
  });

  it('reuses a server already listening on the port, and leaves it running on stop()', async () => {
    const second = await startDevServer({ port, uiPort: 0, headless: true });

    expect(second).toMatchObject({ address: address(), reused: true });
    await second.stop();
    expect(await isListening('127.0.0.1', port)).toBe(true);
  });

  it('stops the server it started', async () => {
    await server?.stop();
    server = undefined;

    expect(await isListening('127.0.0.1', port)).toBe(false);
  });

  it('starts again on the same database file and keeps the workflows recorded in it', async () => {
    server = await startDevServer({ port, uiPort: 0, dbFile, headless: true });
    const workflowId = 'dev-server-persistence';
    // No worker polls this task queue: the run just stays open, which is all a persistence check needs.
    await withConnection((connection) =>
      new Client({ connection }).workflow.start('noWorkerWorkflow', { taskQueue: 'dev-server-test', workflowId }),
    );
    await server.stop();

    // Fresh ports: another server on this machine may take the old ones meanwhile. What must survive is the
    // database file, not the port.
    server = await startDevServer({ port: 0, uiPort: 0, dbFile, headless: true });
    port = Number(server.address.split(':').at(-1));

    const description = await withConnection((connection) =>
      new Client({ connection }).workflow.getHandle(workflowId).describe(),
    );
    expect(description.status.name).toBe('RUNNING');
  });

  it('fails with the server stderr when a port the caller named is taken, and does not move it', async () => {
    const otherPort = await freePort();
    const takenUiPort = await freePort();
    const blocker = net.createServer().listen(takenUiPort, '127.0.0.1');
    try {
      const start = startDevServer({ port: otherPort, uiPort: takenUiPort, dbFile: path.join(stateDir, 'other.db') });

      await expect(start).rejects.toThrow(DevServerError);
      await expect(start).rejects.toThrow(/exited with code 1[\s\S]*address already in use/);
    } finally {
      blocker.close();
    }
  });
});
