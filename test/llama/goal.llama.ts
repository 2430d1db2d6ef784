/**
 * `npm run test:llama`, part 2: a whole goal on a real dev server against a real llama-server (SmolLM2-135M, Qwen2.5
 * template, --jinja). The model is too weak to do the work; what is checked is that the goal reaches an end (a
 * result, or a workflow failure) and leaves no workflow running.
 */
import { match, reply } from '../../dev/scripted-model';
import { resultOf, startTandem } from '../helpers/tandem';
import { startLlamaServer, type LlamaServer } from './llama-server';

describe('a whole goal on a real llama-server', () => {
  let llama: LlamaServer;

  beforeAll(async () => {
    llama = await startLlamaServer();
  }, 300_000);
  afterAll(async () => {
    await llama?.stop();
  });

  it('reaches an end, with no workflow left running', async () => {
    const tandem = await startTandem();
    try {
      tandem.model.on(match.any, reply.forward(llama.baseURL), { repeatLast: true });
      Object.assign(tandem.config.model, {
        model: 'smollm2',
        // Enough for a one-subtask plan under llama.cpp's schema grammar; short everywhere else.
        maxOutputTokens: { plan: 120, step: 24, judge: 40, report: 24 },
        timeoutMs: 600_000,
        stallMs: 120_000,
      });
      const started = Date.now();
      const handle = await tandem.startPlanner('llama-goal', {
        goal: 'Compute 17 * 23 + 4',
        maxReplans: 0,
        maxStepsPerSubtask: 1,
        maxParallel: 1,
      });
      // A weak model may fail to plan (a fallback plan, or plan_invalid) or fail its subtasks: either way the goal ends.
      // A server that dies would leave the goal retrying its model calls: the crash ends the test at once instead.
      const outcome = await Promise.race([resultOf(handle), llama.crashed]).then(
        (result) => `completed (ok: ${result.ok}${result.ok ? '' : `, ${result.reason}`})`,
        (err: Error) => `failed: ${(err.cause as Error | undefined)?.message ?? err.message}`,
      );
      llama.assertRunning();
      const calls = tandem.model.requests.map((r) => r.purpose).join(', ');
      process.stderr.write(`llama: whole goal ${outcome} in ${Date.now() - started} ms; calls: ${calls}\n`);
      const running: string[] = [];
      for await (const execution of tandem.client.workflow.list({
        query: `TaskQueue = '${tandem.taskQueue}' AND ExecutionStatus = 'Running'`,
      })) {
        running.push(execution.workflowId);
      }
      expect(running).toEqual([]);
      tandem.model.assertAllAnswered();
      expect(tandem.model.requests.length).toBeGreaterThan(0);
    } finally {
      await tandem.stop();
    }
  });
});
