/**
 * The worker's MCP connections: one client per configured server, or one per server and workspace when the server's
 * start-up names `${workspace}` (a filesystem server rooted in the goal's folder). A connection is made on first use
 * and kept for later calls; one that closed (a stdio server that exited) is dropped and made again on the next call,
 * which restarts the server. Idle connections are closed after a while, so finished goals do not keep processes.
 *
 * Nothing here is a source of truth for a run: what tools a run offers is recorded in its history by discovery.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import {
  forWorkspace,
  httpEndpoint,
  isPerWorkspace,
  type McpConfig,
  type McpServerConfig,
  secretValues,
} from '../../node/mcp-config';
import { redact } from './output';

/** A connection unused this long is closed (its stdio server stops); the next call starts it again. */
const IDLE_MS = 5 * 60_000;
/** The last characters of a stdio server's stderr kept for error messages (redacted): enough for a stack trace's head. */
const STDERR_TAIL = 2_000;

/** Thrown when a server cannot be reached or started; the message names the server, never a config value. */
export class McpUnavailableError extends Error {
  override name = 'McpUnavailableError';
}

/**
 * Thrown when a server's answer was over `TANDEM_MCP_MAX_RESULT_BYTES`. The tool ran; the connection it came on was
 * closed (a stdio stream cannot skip the rest of a message) and the next call makes a new one.
 */
export class McpResultTooLargeError extends Error {
  override name = 'McpResultTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`the answer was larger than ${limitBytes} bytes`);
  }
}

interface Connection {
  client: Client;
  closed: boolean;
  /** The stdio transport refused an answer over its buffer size (and closed): the pending call is lost for that. */
  overflowed: boolean;
  /** The HTTP session id the server gave at initialisation, if any. */
  sessionId?: string;
  /** A request on this connection finished before: a refusal now means the server forgot the session. */
  sessionUsed: boolean;
  busy: number;
  lastUsed: number;
  stderr: string;
}

export class McpPool {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly sweeper: NodeJS.Timeout;

  /** `config` is read at each call, so a worker whose settings object changes picks the change up. */
  constructor(private readonly config: () => McpConfig) {
    this.sweeper = setInterval(() => void this.closeIdle(), 60_000);
    this.sweeper.unref();
  }

  /**
   * A connected client for `server`, for the workspace folder `workspaceDir` (created if missing, since a server rooted
   * there refuses a folder that does not exist). Runs `use` with it; the connection counts as busy meanwhile.
   *
   * An HTTP server that refuses a request on a session it no longer knows (it restarted: the SDK's servers answer 400
   * "No valid session ID", the spec says 404, others 401 or 403) never ran it, so the request is sent once more on a
   * new session, whatever it was. A refusal on that new session is the server's real answer.
   */
  async use<T>(server: McpServerConfig, workspaceDir: string, use: (client: Client) => Promise<T>): Promise<T> {
    const connection = await this.connection(server, workspaceDir);
    // Read before the call: a refusal of the very first request on a session is the server's answer, not a lost session.
    const sessionWorkedBefore = connection.sessionId !== undefined && connection.sessionUsed;
    try {
      return await this.useConnection(connection, use);
    } catch (err) {
      if (!(sessionRefused(err) && sessionWorkedBefore)) throw err;
      await this.replace(server, workspaceDir, connection);
      return this.useConnection(await this.connection(server, workspaceDir), use);
    }
  }

  private async useConnection<T>(connection: Connection, use: (client: Client) => Promise<T>): Promise<T> {
    connection.busy += 1;
    try {
      return await use(connection.client);
    } catch (err) {
      if (connection.overflowed) throw new McpResultTooLargeError(this.config().maxResultBytes);
      throw err;
    } finally {
      connection.sessionUsed = true;
      connection.busy -= 1;
      connection.lastUsed = Date.now();
    }
  }

  /** Forgets the connection so the next call makes a new one (after a dead server or a broken session). */
  async drop(server: McpServerConfig, workspaceDir: string): Promise<void> {
    const key = this.key(server, workspaceDir);
    const pending = this.connections.get(key);
    this.connections.delete(key);
    if (pending)
      await pending.then(
        (connection) => this.closeQuietly(connection),
        () => undefined,
      );
  }

  /**
   * Drops `stale` unless another call already replaced it: calls that shared a forgotten session all see the refusal,
   * and the later ones must not close the new session the first one made.
   */
  private async replace(server: McpServerConfig, workspaceDir: string, stale: Connection): Promise<void> {
    const key = this.key(server, workspaceDir);
    const pending = this.connections.get(key);
    if (!pending || (await pending.catch(() => undefined)) !== stale || this.connections.get(key) !== pending) return;
    this.connections.delete(key);
    await this.closeQuietly(stale);
  }

  /** The redacted tail of a stdio server's stderr, for an error message. */
  async stderrOf(server: McpServerConfig, workspaceDir: string): Promise<string> {
    const pending = this.connections.get(this.key(server, workspaceDir));
    const connection = pending ? await pending.catch(() => undefined) : undefined;
    return connection ? redact(connection.stderr.trim(), secretValues(this.config())) : '';
  }

  /** Closes every connection (stops every stdio server); for worker shutdown. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      all.map((pending) =>
        pending.then(
          (connection) => this.closeQuietly(connection),
          () => undefined,
        ),
      ),
    );
  }

  /**
   * One key per distinct start-up: the server's name, the hash of its settings (a changed config makes a new
   * connection rather than reusing a stale one) and, for per-workspace servers, the folder.
   */
  private key(server: McpServerConfig, workspaceDir: string): string {
    const settings = createHash('sha256').update(JSON.stringify(server)).digest('hex').slice(0, 16);
    return `${server.name}\0${settings}\0${isPerWorkspace(server) ? workspaceDir : ''}`;
  }

  private async connection(server: McpServerConfig, workspaceDir: string): Promise<Connection> {
    const key = this.key(server, workspaceDir);
    const existing = this.connections.get(key);
    if (existing) {
      const connection = await existing.catch(() => undefined);
      if (connection && !connection.closed) return connection;
      if (this.connections.get(key) === existing) this.connections.delete(key);
    }
    const created = this.connect(server, workspaceDir);
    this.connections.set(key, created);
    created.catch(() => {
      if (this.connections.get(key) === created) this.connections.delete(key);
    });
    return created;
  }

  private async connect(server: McpServerConfig, workspaceDir: string): Promise<Connection> {
    const client = new Client({ name: 'tandem', version: '0.1.0' });
    const connection: Connection = {
      client,
      closed: false,
      overflowed: false,
      sessionUsed: false,
      busy: 0,
      lastUsed: Date.now(),
      stderr: '',
    };
    let transport: StdioClientTransport | StreamableHTTPClientTransport;
    if (server.transport === 'stdio') {
      const started = forWorkspace(server, workspaceDir);
      if (isPerWorkspace(server)) await fs.mkdir(workspaceDir, { recursive: true });
      // stderr is piped, not inherited: a server may print its environment, and worker logs must not carry it.
      const stdio = new StdioClientTransport({
        command: started.command,
        args: started.args,
        env: started.env,
        ...(started.cwd ? { cwd: started.cwd } : {}),
        stderr: 'pipe',
        maxBufferSize: this.config().maxResultBytes,
      });
      stdio.stderr?.on('data', (chunk: Buffer) => {
        connection.stderr = (connection.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
      transport = stdio;
    } else {
      const { url, headers } = httpEndpoint(server);
      transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
    }
    client.onclose = () => {
      connection.closed = true;
    };
    // The SDK's stdio transport reports an over-size message this way, then closes; without telling the two apart, a
    // huge answer looked like a dead server and was asked for again on every restart.
    client.onerror = (err) => {
      if (/ReadBuffer exceeded maximum size/.test(err.message)) connection.overflowed = true;
    };
    try {
      await client.connect(transport, { timeout: this.config().timeoutMs });
      if (transport instanceof StreamableHTTPClientTransport) connection.sessionId = transport.sessionId;
    } catch (err) {
      await this.closeQuietly(connection);
      const secrets = secretValues(this.config());
      const stderr = redact(connection.stderr.trim().split('\n').slice(-3).join(' | '), secrets);
      throw new McpUnavailableError(
        `MCP server "${server.name}" (${describe(server)}) could not be started or reached: ` +
          `${redact((err as Error).message, secrets)}${stderr ? `; its stderr: ${stderr}` : ''}`,
      );
    }
    return connection;
  }

  private async closeIdle(): Promise<void> {
    const now = Date.now();
    for (const [key, pending] of [...this.connections]) {
      const connection = await pending.catch(() => undefined);
      if (connection && connection.busy === 0 && now - connection.lastUsed > IDLE_MS) {
        this.connections.delete(key);
        await this.closeQuietly(connection);
      }
    }
  }

  private async closeQuietly(connection: Connection): Promise<void> {
    connection.closed = true;
    await connection.client.close().catch(() => undefined);
  }
}

/** An HTTP status that refuses the request as such (4xx), before any tool ran. */
function sessionRefused(err: unknown): boolean {
  return err instanceof StreamableHTTPError && err.code !== undefined && err.code >= 400 && err.code < 500;
}

/** How a server is started or reached, without `env`, `headers` or a URL's query and credentials: safe to show. */
export function describe(server: McpServerConfig): string {
  if (server.transport === 'stdio') return `stdio: ${server.command}`;
  const url = new URL(server.url);
  return `http: ${url.origin}${url.pathname}`;
}
