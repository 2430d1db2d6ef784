/**
 * `tandem serve`: the live event stream of any goal over HTTP, as server-sent events (docs/stream.md), for programs
 * and browsers. `GET /goals/<id>/events` streams from the start, or after the offset in `Last-Event-ID` (what a
 * browser's `EventSource` sends when it reconnects) or `?from=`. Each log event is sent with `id: <offset>`; goal
 * notices without one, so the last id a client saw is always a log offset it can resume after.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseOffset } from '../common/stream-events';
import { readEventStream, type StreamSource } from './event-stream';

/** A comment line this often keeps proxies and browsers from closing a quiet stream (a long tool call). */
const KEEPALIVE_MS = 15_000;

export interface ServeOptions {
  port: number;
  /** 127.0.0.1 unless told: the stream shows what the model writes, which may be private. */
  host: string;
  /** Sent as `Access-Control-Allow-Origin`, for a page served from elsewhere; none by default. */
  allowOrigin?: string;
}

const EVENTS_PATH = /^\/goals\/([^/]+)\/events$/;

/** Starts the server; resolves once it listens, with the address it listens on. */
export async function serveEvents(
  source: Omit<StreamSource, 'signal'>,
  opts: ServeOptions,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => void handle(source, opts, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return { server, url: `http://${address.includes(':') ? `[${address}]` : address}:${port}` };
}

async function handle(
  source: Omit<StreamSource, 'signal'>,
  opts: ServeOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = EVENTS_PATH.exec(url.pathname);
  const cors = opts.allowOrigin ? { 'access-control-allow-origin': opts.allowOrigin } : {};
  if (req.method !== 'GET' || !match) {
    res.writeHead(404, { 'content-type': 'text/plain', ...cors }).end('GET /goals/<id>/events\n');
    return;
  }
  const id = decodeURIComponent(match[1]);
  const from = req.headers['last-event-id'] ?? url.searchParams.get('from') ?? undefined;
  const after = typeof from === 'string' && from !== '' ? parseOffset(from) : undefined;
  if (typeof from === 'string' && from !== '' && !after) {
    res.writeHead(400, { 'content-type': 'text/plain', ...cors }).end(`not an offset: ${from} (expected N:M)\n`);
    return;
  }
  const closed = new AbortController();
  res.on('close', () => closed.abort());
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...cors,
  });
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  try {
    for await (const event of readEventStream({ ...source, signal: closed.signal }, id, after)) {
      res.write(`${'id' in event ? `id: ${event.id}\n` : ''}data: ${JSON.stringify(event)}\n\n`);
    }
  } catch (err) {
    if (!closed.signal.aborted) res.write(`event: error\ndata: ${JSON.stringify({ message: String(err) })}\n\n`);
  } finally {
    clearInterval(keepalive);
    res.end();
  }
}
