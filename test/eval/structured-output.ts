/**
 * `npm run eval:structured-output`: which structured-output mode (activities/model/structured-output.ts) the CI
 * suite's llama-server handles best (docs/eval.md). Sends the same plan and judge requests the planner sends, built by
 * the planner's own prompts and sent through tandem's model client (`requestModelReply`), once per mode in turn, and
 * counts how many replies the planner's own readers accept (`checkPlan`, `readVerdict`), how many verdicts are right,
 * and how long the calls take. Prints a table; `--json` prints one JSON line instead. `--n N` requests per kind and
 * mode (default 8). `--base-url URL --model NAME` measures another OpenAI-compatible server instead (no llama-server is
 * started; `OPENAI_API_KEY` is its key).
 */
import { parseArgs } from 'node:util';
import type { ChatMessage, ExecutorAnswered, Subtask } from '../../common/types';
import { verdictSchema } from '../../common/types';
import { jsonSchemaOf } from '../../common/json-schema';
import { forgetCapabilities, requestModelReply } from '../../activities/model/request';
import type { ConcreteMode } from '../../activities/model/structured-output';
import { MODE_ORDER } from '../../activities/model/structured-output';
import { loadConfig, type ModelConfig } from '../../node/config';
import { checkPlan, planJsonSchema } from '../../workflows/planner/plan';
import { readVerdict } from '../../workflows/planner/verdict';
import { JUDGE_SYSTEM_PROMPT, judgeRequest, PLANNER_SYSTEM_PROMPT, planRequest } from '../../workflows/prompts';
import { startLlamaServer } from '../llama/llama-server';
import { EVAL_GOALS } from './goals';
import { EVAL_MODEL, EVAL_MODEL_SETTINGS } from './model-settings';

type Kind = 'plan' | 'judge';

interface Sample {
  kind: Kind;
  messages: ChatMessage[];
  /** For a judge request, the verdict a careful reviewer gives. */
  met?: boolean;
}

interface Row {
  mode: ConcreteMode;
  kind: Kind;
  n: number;
  /** Replies the planner's reader accepts (a valid plan, a verdict). */
  valid: number;
  /** Judge replies whose verdict is the right one. */
  right?: number;
  /** Requests the server refused or that failed. */
  errors: number;
  p50Ms: number;
  maxMs: number;
}

const noUsage = { promptTokens: 0, completionTokens: 0 };

/** A finished subtask's result, as the judge sees it. */
function answered(answer: string, toolCalls: ExecutorAnswered['toolCalls']): ExecutorAnswered {
  return { ok: true, answer, steps: toolCalls.length + 1, usage: noUsage, toolCalls, evidence: answer };
}

function subtask(id: string, title: string, milestone: string): Subtask {
  return { id, title, instructions: title, milestone, dependsOn: [] };
}

/** Judge cases: two met (the tool call did it), two not (a claim with no tool call, a failed call). */
const JUDGE_CASES: Array<{ subtask: Subtask; result: ExecutorAnswered; met: boolean }> = [
  {
    subtask: subtask('s1', 'Write hello to greeting.txt', 'greeting.txt holds hello'),
    result: answered('I wrote hello to greeting.txt.', [
      { step: 1, name: 'write_file', arguments: '{"path":"greeting.txt","content":"hello"}', ok: true },
    ]),
    met: true,
  },
  {
    subtask: subtask('s1', 'Compute 6 * 7', 'the answer gives the product'),
    result: answered('6 * 7 = 42', [{ step: 1, name: 'calculator', arguments: '{"expression":"6*7"}', ok: true }]),
    met: true,
  },
  {
    subtask: subtask('s1', 'Write a summary to summary.txt', 'summary.txt holds a one-sentence summary'),
    result: answered('I wrote a one-sentence summary to summary.txt.', []),
    met: false,
  },
  {
    subtask: subtask('s1', 'Read notes.txt', 'the answer quotes the first line of notes.txt'),
    result: answered('The first line is "Meeting at 3pm".', [
      { step: 1, name: 'read_file', arguments: '{"path":"notes.txt"}', ok: false },
    ]),
    met: false,
  },
];

function samples(n: number): Sample[] {
  const plans = Array.from({ length: n }, (_, i): Sample => ({
    kind: 'plan',
    messages: [
      { role: 'system', content: PLANNER_SYSTEM_PROMPT },
      { role: 'user', content: planRequest(EVAL_GOALS[i % EVAL_GOALS.length].goal) },
    ],
  }));
  const judges = Array.from({ length: n }, (_, i): Sample => {
    const c = JUDGE_CASES[i % JUDGE_CASES.length];
    return {
      kind: 'judge',
      met: c.met,
      messages: [
        { role: 'system', content: JUDGE_SYSTEM_PROMPT },
        { role: 'user', content: judgeRequest(c.subtask, c.result) },
      ],
    };
  });
  return [...plans, ...judges];
}

const RESPONSE_FORMATS = {
  plan: { name: 'plan', schema: planJsonSchema() },
  judge: { name: 'verdict', schema: jsonSchemaOf(verdictSchema) },
};

/** One request in one mode: whether the planner's reader accepts the reply, whether its verdict is right, its time. */
async function measure(
  sample: Sample,
  settings: ModelConfig,
  index: number,
): Promise<{ valid: boolean; right: boolean; error: boolean; ms: number }> {
  const started = Date.now();
  try {
    const { reply } = await requestModelReply(
      {
        input: { purpose: sample.kind, tools: [], responseFormat: RESPONSE_FORMATS[sample.kind] },
        messages: sample.messages,
        idSeed: `structured-${index}`,
      },
      { settings, signal: AbortSignal.timeout(settings.timeoutMs) },
    );
    const ms = Date.now() - started;
    if (sample.kind === 'plan')
      return { valid: checkPlan(reply.content, reply.finishReason).ok, right: false, error: false, ms };
    const verdict = reply.finishReason === 'length' ? undefined : readVerdict(reply.content);
    return { valid: verdict !== undefined, right: verdict?.met === sample.met, error: false, ms };
  } catch (err) {
    process.stderr.write(
      `structured-output: ${settings.structuredOutput} ${sample.kind}: ${String(err).slice(0, 200)}\n`,
    );
    return { valid: false, right: false, error: true, ms: Date.now() - started };
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function table(rows: Row[]): string {
  const header = ['mode', 'kind', 'valid', 'right', 'errors', 'p50 s', 'max s'];
  const cells = rows.map((r) => [
    r.mode,
    r.kind,
    `${r.valid}/${r.n}`,
    r.right === undefined ? '' : `${r.right}/${r.n}`,
    String(r.errors),
    (r.p50Ms / 1000).toFixed(1),
    (r.maxMs / 1000).toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      n: { type: 'string', default: '8' },
      'base-url': { type: 'string' },
      model: { type: 'string' },
    },
  });
  const n = Number(values.n);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a whole number of requests, not ${values.n}`);
  const other = values['base-url'];
  const llama = other ? undefined : await startLlamaServer();
  const server = other
    ? {
        baseURL: other,
        model: values.model ?? loadConfig().model.model,
        name: `${values.model ?? 'model'} at ${other}`,
      }
    : { baseURL: llama!.baseURL, model: EVAL_MODEL_SETTINGS.model, name: EVAL_MODEL };
  const rows: Row[] = [];
  try {
    const base = loadConfig().model;
    for (const mode of MODE_ORDER) {
      // Each mode from a fresh view: what a refusal taught one mode must not carry over to the next.
      forgetCapabilities();
      const settings: ModelConfig = {
        ...base,
        ...EVAL_MODEL_SETTINGS,
        baseURL: server.baseURL,
        model: server.model,
        structuredOutput: mode,
      };
      const all = samples(n);
      const results = [];
      for (const [index, sample] of all.entries())
        results.push({ sample, ...(await measure(sample, settings, index)) });
      for (const kind of ['plan', 'judge'] as const) {
        const mine = results.filter((r) => r.sample.kind === kind);
        const ms = mine.map((r) => r.ms);
        rows.push({
          mode,
          kind,
          n: mine.length,
          valid: mine.filter((r) => r.valid).length,
          ...(kind === 'judge' ? { right: mine.filter((r) => r.right).length } : {}),
          errors: mine.filter((r) => r.error).length,
          p50Ms: percentile(ms, 50),
          maxMs: Math.max(...ms),
        });
      }
      process.stderr.write(`structured-output: ${mode} done\n`);
    }
  } finally {
    await llama?.stop();
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ model: server.name, n, rows })}\n`);
  else process.stdout.write(`${table(rows)}\n\n${n} requests per kind and mode (model: ${server.name})\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `structured-output failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(2);
  },
);
