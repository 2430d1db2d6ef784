/**
 * A real OTLP/HTTP traces receiver for tests: `POST /v1/traces` in both encodings the worker can send, `http/json`
 * and `http/protobuf` (decoded with protobufjs from the subset of opentelemetry-proto's trace messages written below;
 * fields not listed are skipped as unknown, as any proto3 reader does). Spans are kept flat, ids in hex.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import * as protobuf from 'protobufjs';

/** opentelemetry-proto `collector/trace/v1` and `trace/v1`, the fields a span check reads, with their wire numbers. */
const TRACE_PROTO = `
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9; Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
`;
const ExportRequest = protobuf.parse(TRACE_PROTO).root.lookupType('ExportTraceServiceRequest');

export type AttributeValue = string | number | boolean | AttributeValue[];

/** One received span, flattened: its resource's attributes come with it. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Absent for a root span. */
  parentSpanId?: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 3 client. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** How the batch came: `application/json` or `application/x-protobuf`. */
  contentType: string;
}

export interface OtlpReceiver {
  /** The traces URL to export to (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). */
  tracesURL: string;
  /** The base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`): the exporter appends `/v1/traces`. */
  baseURL: string;
  spans: ReceivedSpan[];
  /** Requests it could not decode: a test asserts there are none, so a wrong encoding cannot pass as "no spans". */
  refused: string[];
  close(): Promise<void>;
}

/** OTLP/JSON writes ids as hex; protobufjs's `toObject` gives bytes as base64. */
function hexOf(id: unknown, encoding: 'hex' | 'base64'): string | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  return encoding === 'hex' ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

type Any = Record<string, unknown>;

function valueOf(value: Any | undefined): AttributeValue {
  if (!value) return '';
  for (const key of ['stringValue', 'string_value']) if (key in value) return value[key] as string;
  for (const key of ['boolValue', 'bool_value']) if (key in value) return value[key] as boolean;
  for (const key of ['intValue', 'int_value', 'doubleValue', 'double_value']) {
    if (key in value) return Number(value[key]);
  }
  const array = (value.arrayValue ?? value.array_value) as { values?: Any[] } | undefined;
  if (array) return (array.values ?? []).map(valueOf);
  throw new Error(`OTLP receiver: an attribute value of an unknown kind: ${JSON.stringify(value)}`);
}

function attributesOf(list: unknown): Record<string, AttributeValue> {
  return Object.fromEntries(((list as Any[] | undefined) ?? []).map((kv) => [kv.key, valueOf(kv.value as Any)]));
}

/** Both encodings as one plain object in camelCase (protobufjs's `toObject` names fields so too). */
function spansOf(request: Any, encoding: 'hex' | 'base64', contentType: string): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of (request.resourceSpans as Any[] | undefined) ?? []) {
    const resource = attributesOf((resourceSpans.resource as Any | undefined)?.attributes);
    for (const scope of (resourceSpans.scopeSpans as Any[] | undefined) ?? []) {
      for (const span of (scope.spans as Any[] | undefined) ?? []) {
        const parentSpanId = hexOf(span.parentSpanId, encoding);
        spans.push({
          traceId: hexOf(span.traceId, encoding)!,
          spanId: hexOf(span.spanId, encoding)!,
          ...(parentSpanId ? { parentSpanId } : {}),
          name: span.name as string,
          kind: Number(span.kind ?? 0),
          startNs: BigInt(span.startTimeUnixNano as string),
          endNs: BigInt(span.endTimeUnixNano as string),
          attributes: attributesOf(span.attributes),
          resource,
          statusCode: Number((span.status as Any | undefined)?.code ?? 0),
          contentType,
        });
      }
    }
  }
  return spans;
}

function decode(body: Buffer, contentType: string): ReceivedSpan[] {
  if (contentType.startsWith('application/json')) return spansOf(JSON.parse(body.toString('utf8')), 'hex', contentType);
  if (contentType.startsWith('application/x-protobuf')) {
    const request = ExportRequest.toObject(ExportRequest.decode(body), { longs: String, bytes: String });
    return spansOf(request, 'base64', contentType);
  }
  throw new Error(`OTLP receiver: unexpected content-type ${contentType}`);
}

/** Starts a receiver on 127.0.0.1 (a free port); it answers 400 to what it cannot decode, so the exporter says so. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const contentType = req.headers['content-type'] ?? '';
      try {
        if (req.method !== 'POST' || req.url !== '/v1/traces') throw new Error(`${req.method} ${req.url}`);
        const raw = Buffer.concat(chunks);
        spans.push(...decode(req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw, contentType));
        // An empty ExportTraceServiceResponse: `{}` in JSON, zero bytes in protobuf.
        res.writeHead(200, {
          'content-type': contentType.startsWith('application/json') ? 'application/json' : contentType,
        });
        res.end(contentType.startsWith('application/json') ? '{}' : '');
      } catch (err) {
        refused.push(String(err));
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseURL,
    tracesURL: `${baseURL}/v1/traces`,
    spans,
    refused,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
