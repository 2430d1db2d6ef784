/** `tandem serve`: goals' live event streams over HTTP as server-sent events (client/serve.ts, docs/stream.md). */
import type { Command } from 'commander';
import { tcpPort, withClient } from './shared';

/** Registers `serve` on `program`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve the live event stream of every goal over HTTP: GET /goals/<id>/events (server-sent events)')
    .option('--port <port>', 'the port to listen on (0: any free one)', tcpPort, 8787)
    .option('--host <host>', 'the address to bind; other machines reach it only if you say so', '127.0.0.1')
    .option('--allow-origin <origin>', 'let pages from this origin read the stream (CORS), e.g. http://localhost:5173')
    .action((opts: { port: number; host: string; allowOrigin?: string }) =>
      withClient(async (client) => {
        const [{ serveEvents }, { snapshot }, { openObjectStore }, { loadConfig }] = await Promise.all([
          import('../serve'),
          import('../inspect'),
          import('../../node/object-store'),
          import('../../node/config'),
        ]);
        const source = { objects: openObjectStore(loadConfig().store), snapshot: (id: string) => snapshot(client, id) };
        const { server, url } = await serveEvents(source, opts);
        console.log(`serving goal events at ${url}/goals/<id>/events (Ctrl-C stops)`);
        // Until SIGINT or SIGTERM; open streams never end on their own, so they are cut, then withClient disconnects.
        await new Promise<void>((resolve) => {
          const stop = () => {
            server.close(() => resolve());
            server.closeAllConnections();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );
}
