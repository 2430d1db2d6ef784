/**
 * A small MCP server over stdio, built on the SDK's own `McpServer`, for the behaviours no npm server shows on demand:
 * a side effect that takes a while (a ledger), an error result, a huge answer, a crash mid-call, a slow call without
 * progress, and a tool list that changes. Started by {@link fixtureStdio} (test/helpers/mcp-servers.ts) through tsx.
 *
 * Environment: `FIXTURE_LEDGER` (the file `append_line` and `put_line` write), `FIXTURE_DELAY_MS` (how long they take
 * after writing, default 0), `FIXTURE_CALL_LOG` (a file that gets `<parent pid> <tool>` per ledger call: which worker
 * made it, so a test can kill exactly that one).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

const ledger = process.env.FIXTURE_LEDGER ?? '/dev/null';
const delayMs = Number(process.env.FIXTURE_DELAY_MS ?? 0);
const callLog = process.env.FIXTURE_CALL_LOG;
const logCall = (tool: string) => callLog && appendFileSync(callLog, `${process.ppid} ${tool}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

const server = new McpServer({ name: 'fixture', version: '1.0.0' });

// No annotations: by the MCP spec's defaults, a tool that may change the world and is not idempotent.
server.registerTool(
  'append_line',
  { description: 'Append a line to the ledger', inputSchema: { line: z.string() } },
  async ({ line }) => {
    logCall('append_line');
    appendFileSync(ledger, `${line}\n`);
    await sleep(delayMs);
    return text('appended');
  },
);

server.registerTool(
  'put_line',
  {
    description: 'Add a line to the ledger unless it is there already',
    inputSchema: { line: z.string() },
    annotations: { readOnlyHint: false, idempotentHint: true },
  },
  async ({ line }) => {
    logCall('put_line');
    const lines = existsSync(ledger) ? readFileSync(ledger, 'utf8').split('\n') : [];
    if (!lines.includes(line)) appendFileSync(ledger, `${line}\n`);
    await sleep(delayMs);
    return text('stored');
  },
);

server.registerTool(
  'locked',
  { description: 'Always answers with an error result', annotations: { readOnlyHint: true } },
  async () => ({ ...text('the ledger is locked by another user'), isError: true }),
);

server.registerTool(
  'huge',
  {
    description: 'Answers with `bytes` bytes of text',
    inputSchema: { bytes: z.number() },
    annotations: { readOnlyHint: true },
  },
  async ({ bytes }) => text('x'.repeat(bytes)),
);

server.registerTool('crash', { description: 'Exits in the middle of the call' }, async () => {
  process.exit(3);
});

server.registerTool(
  'slow',
  {
    description: 'Answers after `ms` ms, without progress',
    inputSchema: { ms: z.number() },
    annotations: { readOnlyHint: true },
  },
  async ({ ms }) => {
    await sleep(ms);
    return text('slow done');
  },
);

server.registerTool(
  'add_tool',
  { description: 'Adds the tool `added` (the server sends tools/list_changed)' },
  async () => {
    server.registerTool('added', { description: 'Added at run time', annotations: { readOnlyHint: true } }, async () =>
      text('added answers'),
    );
    return text('added the tool "added"');
  },
);

void server.connect(new StdioServerTransport());
