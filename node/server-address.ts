/**
 * A Temporal address (`host:port`) taken apart and checked, and a quick TCP probe of it. The probe exists because the
 * gRPC client reports "nothing listens here" only at its connect deadline (5 s), while the kernel refuses a closed
 * port at once: a verb with no server must answer in well under a second and a half, as the `temporal` CLI does.
 */
import { connect } from 'node:net';

/** An address split into its host (brackets removed from an IPv6 literal) and TCP port. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * `localhost:7233`, `10.0.0.5:7233`, `[::1]:7233`, `ns.tmprl.cloud:7233` → host and port; undefined when the port is
 * missing or not 1-65535. A bare host is refused rather than read as port 7233: on a machine with several servers a
 * silent default port is how a command reaches the wrong one.
 */
export function parseHostPort(address: string): HostPort | undefined {
  const found = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(address.trim());
  if (!found) return undefined;
  const port = Number(found[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: found[1] ?? found[2]!, port };
}

/**
 * What a TCP connection attempt found: `open` (something accepts connections; whether it is Temporal is the gRPC
 * client's to find out), `closed` (refused, no such host, unreachable: certainly no server), or `unknown` (no answer
 * within the probe's time, as a slow or filtered network gives: the gRPC client's own deadline decides).
 */
export type ProbeOutcome = { kind: 'open' } | { kind: 'closed'; code: string } | { kind: 'unknown' };

/** The error codes that prove nothing listens at the address (rather than that the network is slow). */
const CLOSED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EAI_AGAIN',
]);

/** Opens and closes one TCP connection to `target`, waiting at most `timeoutMs` (milliseconds). Never rejects. */
export function probeTcp(target: HostPort, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const finish = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'unknown' }), timeoutMs);
    socket.once('connect', () => finish({ kind: 'open' }));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(CLOSED_CODES.has(err.code ?? '') ? { kind: 'closed', code: err.code! } : { kind: 'unknown' }),
    );
  });
}
