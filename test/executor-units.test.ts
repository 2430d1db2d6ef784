import type { ContentStore } from '../activities/content-store';
import { trimObservation } from '../activities/observations';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpGet, isHostAllowed } from '../activities/tools/http-get';
import { loadConfig } from '../node/config';
import {
  budgetLeft,
  DEFAULT_MAX_STEPS,
  exhaustedBudget,
  resolveBudget,
  type Spent,
} from '../workflows/executor/budget';
import type { Subtask } from '../common/types';
import { toolCallSummary } from '../common/tools';
import { checkToolCall } from '../workflows/executor/tool-calls';

const subtask: Subtask = { id: 't1', title: 'T', instructions: 'Do', milestone: 'Done', dependsOn: [] };
const spent = (over: Partial<Spent> = {}): Spent => ({
  steps: 0,
  usage: { promptTokens: 0, completionTokens: 0 },
  startedAt: 1_000,
  now: 1_000,
  ...over,
});

describe('budgets (pure)', () => {
  it('defaults to 20 steps and no token or time limit', () => {
    expect(resolveBudget({ subtask })).toEqual({ maxSteps: DEFAULT_MAX_STEPS });
  });

  it("lets the planner's budget win over the subtask's field by field", () => {
    const budget = resolveBudget({
      subtask: { ...subtask, budget: { maxSteps: 5, maxTokens: 900 } },
      budget: { maxSteps: 2, maxSeconds: 30 },
    });
    expect(budget).toEqual({ maxSteps: 2, maxTokens: 900, maxSeconds: 30 });
  });

  it('names the first budget that leaves no room for another step', () => {
    const budget = { maxSteps: 3, maxTokens: 100, maxSeconds: 10 };
    expect(exhaustedBudget(budget, spent({ steps: 2 }))).toBeUndefined();
    expect(exhaustedBudget(budget, spent({ steps: 3 }))).toBe('steps');
    expect(exhaustedBudget(budget, spent({ usage: { promptTokens: 90, completionTokens: 10 } }))).toBe('tokens');
    expect(exhaustedBudget(budget, spent({ now: 11_000 }))).toBe('time');
  });

  it('reports what is left, with null for unlimited', () => {
    expect(budgetLeft({ maxSteps: 4, maxSeconds: 10 }, spent({ steps: 1, now: 3_500 }))).toEqual({
      maxSteps: 4,
      maxTokens: null,
      maxSeconds: 10,
      stepsLeft: 3,
      tokensLeft: null,
      secondsLeft: 7.5,
    });
  });
});

describe('tool-call checks (pure)', () => {
  const offered = ['calculator', 'escalate'] as const;

  it('runs an offered tool with a JSON object of arguments', () => {
    const call = { id: 'c1', name: 'calculator', arguments: '{"expression":"1+1"}' };
    expect(checkToolCall(call, [...offered])).toEqual({ kind: 'run', call, args: { expression: '1+1' } });
  });

  it.each([
    [
      { id: 'c', name: 'rm_rf', arguments: '{}' },
      /unknown tool "rm_rf"; the tools you can call are: calculator, escalate/,
    ],
    [{ id: 'c', name: 'calculator', arguments: '{"expression":' }, /arguments of calculator are not valid/],
    [{ id: 'c', name: 'calculator', arguments: '[1]' }, /not a JSON object/],
    [{ id: 'c', name: 'escalate', arguments: '{"reason":"  "}' }, /arguments of escalate are not valid \(reason: /],
  ])('refuses %j with an observation that says why', (call, says) => {
    const checked = checkToolCall(call, [...offered]);
    expect(checked.kind).toBe('refused');
    expect(checked.kind === 'refused' && checked.observation).toMatch(says);
  });

  it('turns a valid escalate into an escalation', () => {
    const call = { id: 'c', name: 'escalate', arguments: '{"reason":"no data"}' };
    expect(checkToolCall(call, [...offered])).toEqual({ kind: 'escalate', reason: 'no data' });
  });

  it('summarizes a call by its tool and first string argument, on one short line', () => {
    expect(toolCallSummary('write_file', { path: 'notes/answer.txt', content: '395' })).toBe(
      'write_file notes/answer.txt',
    );
    expect(toolCallSummary('list_files', {})).toBe('list_files');
    const long = toolCallSummary('calculator', { expression: `1 +\n${'1 + '.repeat(100)}1` });
    expect(long).toHaveLength(100);
    expect(long).not.toContain('\n');
  });
});

describe('observation trimming and the http allow-list (pure)', () => {
  const memoryStore = (): ContentStore & { saved: string[] } => {
    const saved: string[] = [];
    return { saved, put: async (text) => (saved.push(text), `sha256:${saved.length}`), get: async () => '' };
  };

  it('keeps a short output as it is, and stores nothing', async () => {
    const store = memoryStore();
    expect(await trimObservation('short', 10, store)).toEqual({ output: 'short' });
    expect(store.saved).toEqual([]);
  });

  it('trims a long output with a note naming the stored full text', async () => {
    const store = memoryStore();
    const observation = await trimObservation('x'.repeat(50), 10, store);
    expect(observation.outputRef).toBe('sha256:1');
    expect(observation.output).toMatch(/^x{10}\n\[trimmed: showing the first 10 of 50 characters.*sha256:1/);
    expect(store.saved).toEqual(['x'.repeat(50)]);
  });

  it('allows a host by name (any port) or by host:port (that port only), and nothing by default', () => {
    const url = new URL('http://Example.com:8080/a');
    expect(isHostAllowed(url, [])).toBe(false);
    expect(isHostAllowed(url, ['example.com'])).toBe(true);
    expect(isHostAllowed(url, ['example.com:8080'])).toBe(true);
    expect(isHostAllowed(url, ['example.com:9090', 'other.org'])).toBe(false);
  });
});

describe('http_get (the handler, against a loopback server)', () => {
  it('leaves out a character its byte cut splits, instead of sending the model a U+FFFD', async () => {
    const server = http.createServer((_req, res) => res.end('ab😀😀😀'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const config = loadConfig();
      const output = await httpGet.execute(
        { url: `http://127.0.0.1:${port}/` },
        {
          workspaceDir: '/nonexistent',
          signal: new AbortController().signal,
          // 4 bytes: "ab" and the first half of the first emoji.
          config: { ...config, http: { ...config.http, allow: ['127.0.0.1'], maxBytes: 4 } },
        },
      );
      expect(output.split('\n').slice(2)).toEqual(['ab', '[body cut off at 4 bytes (TANDEM_HTTP_MAX_BYTES)]']);
    } finally {
      server.close();
    }
  });
});
