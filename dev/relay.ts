/**
 * A byte relay between two stream endpoints (a TCP port on 127.0.0.1 or a Unix socket path). The cluster tests put each
 * worker in a network namespace of its own with only loopback, as a separate machine would be: a relay in the worker's
 * namespace takes 127.0.0.1:PORT to a Unix socket on the shared filesystem, and one in the root namespace takes that
 * socket to the real 127.0.0.1:PORT (the Temporal server, the S3 store, the model). A Unix socket is the one channel
 * two network namespaces share without a virtual network device.
 */
import * as net from 'node:net';

/** Where a relay listens or connects: a loopback TCP port or a Unix socket path. */
export type RelayEnd = { port: number } | { path: string };

const describeEnd = (end: RelayEnd) => ('port' in end ? `127.0.0.1:${end.port}` : end.path);

/**
 * Listens on `from` and pipes every connection to a new connection to `to`; either side closing or failing ends both
 * (a peer that went away is what the client would have seen without the relay). Resolves once listening.
 */
export async function startRelay(from: RelayEnd, to: RelayEnd): Promise<net.Server> {
  const server = net.createServer((inbound) => {
    const outbound = net.connect('port' in to ? { port: to.port, host: '127.0.0.1' } : { path: to.path });
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new Error(`relay ${describeEnd(from)} → ${describeEnd(to)}: ${error.message}`)),
    );
    server.listen('port' in from ? { port: from.port, host: '127.0.0.1' } : { path: from.path }, resolve);
  });
  return server;
}
