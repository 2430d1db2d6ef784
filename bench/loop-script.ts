/**
 * The one script every contender runs against the scripted model: "Call the calculator, run N steps. [bench:TAG]"
 * gets a calculator call until the conversation holds N-1 tool results, then a final answer. Each contender sends the
 * whole conversation, so the count works whatever the framework. The reply function also clocks every request's
 * arrival per tag: one step is the time from one model request of a run to the next (model, tool and orchestration),
 * measured the same way for every contender.
 */
import { match, reply, type ScriptedModel } from '../dev/scripted-model';

/** The instructions a benchmark run is given; `tag` names the run in the step clock. */
export function loopInstructions(steps: number, tag: string): string {
  return `Call the calculator, run ${steps} steps. [bench:${tag}]`;
}

/** A goal text whose plan is one calculator subtask of `steps` steps (see {@link scriptLoop}). */
export function loopGoal(steps: number, tag: string): string {
  return `bench-goal: ${loopInstructions(steps, tag)}`;
}

/** Arrival times of model requests, per run tag. */
export class StepClock {
  private readonly arrivals = new Map<string, number[]>();

  record(tag: string): void {
    const list = this.arrivals.get(tag) ?? [];
    list.push(performance.now());
    this.arrivals.set(tag, list);
  }

  /** Milliseconds between consecutive model requests of one run: one per step that ran a tool. */
  steps(tag: string): number[] {
    const list = this.arrivals.get(tag) ?? [];
    return list.slice(1).map((time, index) => time - list[index]);
  }
}

function tagOf(text: string): string {
  return /\[bench:([^\]]+)\]/.exec(text)?.[1] ?? 'untagged';
}

/**
 * Registers the loop's rules; register before `scriptDemo` so a benchmark goal's plan wins over the demo plan. The
 * plan for a `loopGoal` is one subtask with the calculator and a step budget that fits.
 */
export function scriptLoop(model: ScriptedModel, clock: StepClock): void {
  model.on(
    match.and(match.hasTools('calculator'), match.textContains('[bench:')),
    (req) => {
      clock.record(tagOf(req.text));
      const wanted = Number(/run (\d+) steps/.exec(req.text)?.[1] ?? 1);
      const done = req.messages.filter((message) => message.role === 'tool').length;
      return done + 1 < wanted ? reply.toolCall('calculator', { expression: `${done + 1} + 1` }) : reply.text('done');
    },
    { name: 'bench loop', repeatLast: true },
  );
  model.on(
    match.and(match.purpose('plan'), match.textContains('bench-goal: ')),
    (req) => {
      const steps = Number(/run (\d+) steps/.exec(req.text)?.[1] ?? 1);
      return reply.json({
        subtasks: [
          {
            id: 's1',
            title: 'Benchmark loop',
            instructions: loopInstructions(steps, tagOf(req.text)),
            milestone: 'The answer says done.',
            dependsOn: [],
            tools: ['calculator'],
            budget: { maxSteps: steps + 1 },
          },
        ],
      });
    },
    { name: 'bench plan', repeatLast: true },
  );
}
