/**
 * The model `tandem demo` uses when no OPENAI_BASE_URL is configured: the scripted model server (one fake for the
 * whole project, shared with the tests and the bench) playing a canned two-subtask plan. The calculator's real output flows through it, so the
 * demo exercises the real loops, tools and workspace; only the model's words are canned.
 */
import {
  match,
  reply,
  startScriptedModel,
  type RecordedRequest,
  type Reply,
  type ScriptedModel,
} from './scripted-model';

/** The demo's arithmetic; 17 * 23 + 4 = 395. */
export const DEMO_EXPRESSION = '17 * 23 + 4';

function lastToolOutput(req: RecordedRequest): string {
  const tool = [...req.messages].reverse().find((message) => message.role === 'tool');
  return typeof tool?.content === 'string' ? tool.content : '';
}

/** About how many chunks the scripted model streams a short demo answer in (role, the text in pieces, finish). */
const DEMO_ANSWER_CHUNKS = 8;

/** `answer`, streamed so that its chunks arrive over about `ms`. */
function streamedOver(ms: number, answer: (req: RecordedRequest) => Reply): (req: RecordedRequest) => Reply {
  return (req) => reply.streamed(answer(req), { chunkDelayMs: Math.ceil(ms / DEMO_ANSWER_CHUNKS) });
}

/** How the demo script paces itself. */
export interface DemoPace {
  /**
   * How long s1's final answer takes, every time, streamed a few characters at a time: `tandem dev` sets it so that a
   * goal stays running long enough to watch, and `tandem watch` shows its tokens arrive.
   */
  firstSubtaskDelayMs?: number;
}

/** Scripts the demo's plan, verdicts and replies on a scripted model (the end-to-end test plays the same script). */
export function scriptDemo(model: ScriptedModel, pace: DemoPace = {}): ScriptedModel {
  const answerS1 = (req: RecordedRequest) => reply.text(`${DEMO_EXPRESSION} = ${lastToolOutput(req)}`);
  return model
    .on(match.purpose('judge'), reply.json({ met: true, reason: 'The result shows the milestone is met.' }), {
      name: 'judge',
      repeatLast: true,
    })
    .on(
      match.purpose('plan'),
      reply.json({
        subtasks: [
          {
            id: 's1',
            title: 'Compute the value',
            instructions: `Compute ${DEMO_EXPRESSION} with the calculator.`,
            milestone: 'The answer states the value computed by the calculator.',
            dependsOn: [],
            tools: ['calculator'],
          },
          {
            id: 's2',
            title: 'Save the result',
            instructions: 'Write the computed value to answer.txt in the workspace.',
            milestone: 'answer.txt exists in the workspace and contains the value.',
            dependsOn: ['s1'],
            tools: ['write_file'],
          },
        ],
      }),
      { name: 'planner', repeatLast: true },
    )
    .on(
      match.and(match.purpose('step', 's1'), match.lastRole('tool')),
      pace.firstSubtaskDelayMs ? streamedOver(pace.firstSubtaskDelayMs, answerS1) : answerS1,
      { repeatLast: true },
    )
    .on(match.purpose('step', 's1'), reply.toolCall('calculator', { expression: DEMO_EXPRESSION }), {
      name: 's1',
      repeatLast: true,
    })
    .on(
      match.and(match.purpose('step', 's2'), match.lastRole('tool')),
      (req) => reply.text(`Saved: ${lastToolOutput(req)}`),
      { repeatLast: true },
    )
    .on(
      match.purpose('step', 's2'),
      (req) => {
        const value = /= (-?[\d.]+)/.exec(req.lastUserText)?.[1] ?? 'unknown';
        return reply.toolCall('write_file', { path: 'answer.txt', content: `${value}\n` });
      },
      { name: 's2', repeatLast: true },
    )
    .on(match.purpose('report'), (req) => reply.text(`Done. ${req.lastUserText.split('\n').slice(-1)[0]}`), {
      name: 'report',
      repeatLast: true,
    });
}

export async function startDemoModel(pace: DemoPace = {}): Promise<ScriptedModel> {
  return scriptDemo(await startScriptedModel(), pace);
}
