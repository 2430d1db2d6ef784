/** What every activity is built with: the worker's settings and its content store, injected by the factory. */
import type { TandemConfig } from '../node/config';
import type { ObjectContentStore } from './content-store';
import type { McpPool } from './mcp/pool';
import type { Tracing } from './tracing';

export interface ActivityDeps {
  config: TandemConfig;
  store: ObjectContentStore;
  /** The worker's MCP connections (activities/mcp/pool.ts). */
  mcp: McpPool;
  /** The trace exporter, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (activities/tracing.ts). */
  tracing?: Tracing;
}
