/**
 * Which Temporal cluster answers at an address, asked over gRPC without the SDK: one `GetClusterInfo` call on a plain
 * HTTP/2 connection (`node:http2`), its response's `cluster_id` read from the protobuf bytes. The CLI compares it with
 * the HTTP API's `/api/v1/cluster-info` before it reads over HTTP (client/commands/shared.ts), so that a
 * `TEMPORAL_HTTP_ADDRESS` left over from another server (`TEMPORAL_ADDRESS` changed, the variable not) is never read
 * in its place: each dev server, each cluster, has its own id.
 */
import { connect } from 'node:http2';
import type { HostPort } from './server-address';

const GET_CLUSTER_INFO = '/temporal.api.workflowservice.v1.WorkflowService/GetClusterInfo';
/** `cluster_id` of `temporal.api.workflowservice.v1.GetClusterInfoResponse`. */
const CLUSTER_ID_FIELD = 3;

/** The varint at `at` of `bytes` and the offset after it. */
function varint(bytes: Buffer, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; at < bytes.length; shift += 7) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
  }
  return [value, at];
}

/** The string field `field` of a protobuf message; undefined when absent or when a field of another wire type hides it. */
function stringField(message: Buffer, field: number): string | undefined {
  for (let at = 0; at < message.length;) {
    const [key, afterKey] = varint(message, at);
    const wireType = key & 7;
    if (wireType === 0) [, at] = varint(message, afterKey);
    else if (wireType === 2) {
      const [length, start] = varint(message, afterKey);
      if (key >>> 3 === field) return message.subarray(start, start + length).toString('utf8');
      at = start + length;
    } else return undefined;
  }
  return undefined;
}

/**
 * The cluster id of the plain (no TLS) gRPC server at `target`, or undefined when nothing answers as one within
 * `timeoutMs`. Never rejects.
 */
export function grpcClusterId(target: HostPort, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const session = connect(`http://${host}:${target.port}`);
    const finish = (id: string | undefined) => {
      clearTimeout(timer);
      session.destroy();
      resolve(id);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    session.on('error', () => finish(undefined));
    const request = session.request({
      ':method': 'POST',
      ':path': GET_CLUSTER_INFO,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', () => finish(undefined));
    // One length-prefixed message: a flag byte, four bytes of length, the message (here empty, as is the request).
    request.on('end', () => finish(stringField(Buffer.concat(chunks).subarray(5), CLUSTER_ID_FIELD)));
    request.end(Buffer.alloc(5));
  });
}
