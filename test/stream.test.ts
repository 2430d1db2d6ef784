/**
 * The live event stream of a goal (docs/stream.md) on a real dev server, with the scripted model streaming slowly: a
 * client of `tandem serve`'s endpoint that disconnects mid-step and reconnects with `Last-Event-ID` gets every token
 * once, reasoning apart from content; `tandem watch ID --json` prints the same events as JSON lines.
 */
import type { Server } from 'node:http';
import { match, reply } from '../dev/scripted-model';
import type { StreamEvent } from '../common/stream-events';
import { snapshot } from '../client/inspect';
import { readEventStream } from '../client/event-stream';
import { serveEvents } from '../client/serve';
import { watchGoal } from '../client/watch';
import { openObjectStore } from '../node/object-store';
import { removalKey, segmentKey, STREAMS_FOLDER, streamFolder } from '../common/stream-events';
import { goalRunLookup, sweepStreams } from '../worker/stream-retention';
import { runCli } from './helpers/cli';
import { startTandem, type Tandem } from './helpers/tandem';

jest.setTimeout(120_000);

const THINKING = 'The calculator said 395; I should report exactly that value, and nothing else. '.repeat(3);
const ANSWER = 'The value of 17 * 23 + 4 is 395, as the calculator computed it. '.repeat(4);

/** One goal, one subtask: a calculator call, then an answer streamed a chunk every 40 ms (about 5 s in all). */
function scriptGoal(tandem: Tandem): void {
  tandem.model
    .on(match.purpose('judge'), reply.json({ met: true, reason: 'The value is stated.' }), { repeatLast: true })
    .on(
      match.purpose('plan'),
      reply.json({
        subtasks: [
          {
            id: 's1',
            title: 'Compute the value',
            instructions: 'Compute 17 * 23 + 4 with the calculator.',
            milestone: 'The answer states the value.',
            dependsOn: [],
            tools: ['calculator'],
          },
        ],
      }),
      { repeatLast: true },
    )
    .on(
      match.and(match.purpose('step', 's1'), match.lastRole('tool')),
      reply.streamed(reply.message({ content: ANSWER, reasoning_content: THINKING }), { chunkDelayMs: 40 }),
      { repeatLast: true },
    )
    .on(match.purpose('step', 's1'), reply.toolCall('calculator', { expression: '17 * 23 + 4' }), { repeatLast: true })
    .on(match.purpose('report'), reply.text('Done: 395.'), { repeatLast: true });
}

interface Received {
  id?: string;
  event: StreamEvent;
}

/**
 * Reads the SSE endpoint until `stop` says so or the stream ends; `lastEventId` resumes. Parses the wire format
 * itself (`id:` and `data:` lines, blank line between events), as any client would.
 */
async function readSse(
  url: string,
  stop: (received: Received[]) => boolean,
  lastEventId?: string,
): Promise<{ received: Received[]; ended: boolean }> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: lastEventId ? { 'last-event-id': lastEventId } : {},
    signal: controller.signal,
  });
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const received: Received[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const piece of response.body!) {
      buffer += decoder.decode(piece, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut).split('\n');
        buffer = buffer.slice(cut + 2);
        const data = block.find((line) => line.startsWith('data: '));
        if (!data) continue;
        const id = block.find((line) => line.startsWith('id: '))?.slice(4);
        received.push({ ...(id ? { id } : {}), event: JSON.parse(data.slice(6)) as StreamEvent });
        if (stop(received)) {
          // Aborting makes the body's iterator throw; the flag, not the loop, says how the read ended.
          controller.abort();
          return { received, ended: false };
        }
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  }
  return { received, ended: !controller.signal.aborted };
}

function textOf(events: StreamEvent[], type: 'content' | 'reasoning', workflowId: string): string {
  return events.map((e) => (e.type === type && e.workflowId === workflowId ? e.text : '')).join('');
}

describe('the live event stream', () => {
  let tandem: Tandem;
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    tandem = await startTandem();
    const source = {
      objects: openObjectStore(tandem.config.store),
      snapshot: (id: string) => snapshot(tandem.client, id),
    };
    ({ server, url: baseUrl } = await serveEvents(source, { port: 0, host: '127.0.0.1' }));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await tandem.stop();
  });

  it('resumes after a disconnect mid-step with Last-Event-ID: every token once, reasoning apart', async () => {
    scriptGoal(tandem);
    const handle = await tandem.startPlanner('stream', { goal: 'Compute 17 * 23 + 4' });
    const id = handle.workflowId;
    const executor = `${id}.v1.s1`;
    const url = `${baseUrl}/goals/${encodeURIComponent(id)}/events`;

    // Disconnect once the answer has started to stream, well before its ~5 s are over.
    const first = await readSse(
      url,
      (got) =>
        textOf(
          got.map((r) => r.event),
          'content',
          executor,
        ).length > 0,
    );
    expect(first.ended).toBe(false);
    const firstEvents = first.received.map((r) => r.event);
    const answerCall = firstEvents.find((e) => e.type === 'content' && e.workflowId === executor);
    const callOf = (e: StreamEvent | undefined) => (e && 'activityId' in e ? e.activityId : undefined);
    expect(callOf(answerCall)).toBeDefined();
    // Mid-step: the answer's call had not ended when the client went away.
    expect(firstEvents.some((e) => e.type === 'model-end' && callOf(e) === callOf(answerCall))).toBe(false);
    const lastId = first.received.filter((r) => r.id).at(-1)!.id!;

    const second = await readSse(url, () => false, lastId);
    expect(second.ended).toBe(true);
    const all = [...first.received, ...second.received];
    const events = all.map((r) => r.event);

    // Offsets strictly increase across both connections: nothing doubled, nothing skipped over.
    const offsets = all.flatMap((r) => (r.id ? [r.id.split(':').map(Number)] : []));
    for (let i = 1; i < offsets.length; i++) {
      const [a, b] = [offsets[i - 1], offsets[i]];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true);
    }
    expect(second.received[0].id).not.toBe(lastId);
    expect(textOf(events, 'content', executor)).toBe(ANSWER);
    expect(textOf(events, 'reasoning', executor)).toBe(THINKING);
    // The text streamed in pieces: more than one delta of each kind.
    expect(events.filter((e) => e.type === 'content' && e.workflowId === executor).length).toBeGreaterThan(3);

    expect(events).toContainEqual(expect.objectContaining({ type: 'tool-start', name: 'calculator', step: 1 }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'tool-end', name: 'calculator', ok: true }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'plan', version: 1, subtasks: ['s1'] }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'verdict', subtaskId: 's1', workflowId: executor }));
    expect(events.at(-1)).toEqual(
      expect.objectContaining({ type: 'end', executionStatus: 'COMPLETED', status: 'completed' }),
    );
    await handle.result();
  });

  it('prints the events as JSON lines with `tandem watch ID --json`, tool start and end, then the end', async () => {
    scriptGoal(tandem);
    const handle = await tandem.startPlanner('watch-json', { goal: 'Compute 17 * 23 + 4' });
    const run = await runCli(['watch', handle.workflowId, '--json'], { TANDEM_TASK_QUEUE: tandem.taskQueue });
    expect(run.code).toBe(0);
    const events = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as StreamEvent);
    const executor = `${handle.workflowId}.v1.s1`;
    const types = events.map((e) => e.type);
    expect(types.indexOf('tool-start')).toBeLessThan(types.indexOf('tool-end'));
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'tool-end', name: 'calculator', workflowId: executor }),
    );
    expect(textOf(events, 'content', executor)).toBe(ANSWER);
    expect(events.at(-1)).toEqual(expect.objectContaining({ type: 'end', ending: 'completed' }));

    // One executor watched: only the events it wrote (not the planner's or the judge's), at the goal stream's offsets.
    const own = await runCli(['watch', executor, '--json'], { TANDEM_TASK_QUEUE: tandem.taskQueue });
    expect(own.code).toBe(0);
    const ownEvents = own.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as StreamEvent);
    expect(ownEvents.filter((e) => e.type !== 'end')).toEqual(
      events.filter((e) => 'workflowId' in e && e.workflowId === executor && e.type !== 'verdict'),
    );
    expect(textOf(ownEvents, 'content', executor)).toBe(ANSWER);
    expect(ownEvents.at(-1)).toEqual(expect.objectContaining({ type: 'end' }));
  });

  it('shows the tokens of the call in flight under the tree in a terminal (`tandem watch ID`)', async () => {
    scriptGoal(tandem);
    const handle = await tandem.startPlanner('watch-tty', { goal: 'Compute 17 * 23 + 4' });
    let written = '';
    const outcome = await watchGoal(
      tandem.client,
      handle.workflowId,
      { isTTY: true, columns: 400, write: (text: string) => (written += text) },
      { objects: openObjectStore(tandem.config.store) },
    );
    expect(outcome.ending).toBe('completed');
    // Frames showed the subtask's text growing as it streamed: each a piece of what the model wrote, not all the same.
    const streamed = (THINKING + ANSWER).replace(/\s+/g, ' ');
    const live = [...written.matchAll(/^ {2}s1 ▸ (.+)$/gm)].map((m) => m[1]);
    expect(new Set(live).size).toBeGreaterThan(2);
    for (const text of live) expect(streamed).toContain(text);
    expect(live.some((text) => ANSWER.includes(text.slice(-12)))).toBe(true);
    // The heartbeat's lagging count is not drawn over the live text of the same call.
    expect(written).not.toMatch(/subtask s1: step reply streaming/);
  });

  it("removes a goal's stream its retention after the goal ends; a client resuming there is told the events are gone", async () => {
    scriptGoal(tandem);
    const handle = await tandem.startPlanner('retention', { goal: 'Compute 17 * 23 + 4' });
    const id = handle.workflowId;
    await handle.result();
    const objects = openObjectStore(tandem.config.store);
    const lookup = goalRunLookup(tandem.client.workflowService, tandem.client.options.namespace);
    const hour = 3_600_000;
    // A stream no goal of this namespace owns (an activity started on its own) goes at the first sweep.
    await objects.create(segmentKey('no-such-goal', 0), { bytes: Buffer.from('{"events":[]}') });
    const url = `${baseUrl}/goals/${encodeURIComponent(id)}/events`;
    const before = await readSse(url, () => false);
    const lastId = before.received.filter((r) => r.id).at(-1)!.id!;

    const early = await sweepStreams(objects, lookup, hour, new Date(Date.now() + hour - 60_000));
    expect(early.removed).not.toContain(id);
    expect(early.removed).toContain('no-such-goal');
    expect(await objects.read(segmentKey(id, 0))).toBeDefined();
    expect(await objects.read(removalKey('no-such-goal'))).toBeUndefined();

    const late = await sweepStreams(objects, lookup, hour, new Date(Date.now() + hour + 60_000));
    expect(late.removed).toContain(id);
    expect(await objects.children(STREAMS_FOLDER)).not.toContain(streamFolder(id).split('/')[1]);
    expect(await objects.read(segmentKey(id, 0))).toBeUndefined();

    // Resuming after an offset that was removed, and reading from the start, both say so before the end.
    for (const lastEventId of [lastId, undefined]) {
      const after = await readSse(url, () => false, lastEventId);
      expect(after.ended).toBe(true);
      const events = after.received.map((r) => r.event);
      expect(events.filter((e) => 'id' in e)).toEqual([]);
      const gone = events.find((e) => e.type === 'gone');
      expect(gone).toEqual(expect.objectContaining({ type: 'gone', endedAt: expect.any(String) }));
      expect(events.indexOf(gone!)).toBeLessThan(events.length - 1);
      expect(events.at(-1)).toEqual(expect.objectContaining({ type: 'end', ending: 'completed' }));
    }

    // The record outlives the segments while Temporal knows the goal, and goes once it does not (the namespace's
    // retention forgot it: no reader can ask about the goal any more).
    await objects.overwrite(removalKey('no-such-goal'), { bytes: Buffer.from('{}') });
    const again = await sweepStreams(objects, lookup, hour);
    expect(again.forgotten).not.toContain(id);
    expect(again.forgotten).toContain('no-such-goal');
    expect(await objects.read(removalKey(id))).toBeDefined();
    expect(await objects.read(removalKey('no-such-goal'))).toBeUndefined();
  });
});

describe('a worker with TANDEM_LIVE_STREAM=false', () => {
  let tandem: Tandem;
  beforeAll(async () => {
    tandem = await startTandem({ config: (config) => ({ ...config, liveStream: false }) });
  });
  afterAll(async () => {
    await tandem.stop();
  });

  it('writes no stream: the goal still ends, and a reader gets the goal events and the end only', async () => {
    scriptGoal(tandem);
    const handle = await tandem.startPlanner('no-stream', { goal: 'Compute 17 * 23 + 4' });
    const objects = openObjectStore(tandem.config.store);
    const events: StreamEvent[] = [];
    for await (const event of readEventStream(
      { objects, snapshot: (id) => snapshot(tandem.client, id) },
      handle.workflowId,
    )) {
      events.push(event);
    }
    expect(events.filter((e) => 'id' in e)).toEqual([]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'plan', version: 1 }));
    expect(events.at(-1)).toEqual(expect.objectContaining({ type: 'end', ending: 'completed' }));
    expect(await objects.children(STREAMS_FOLDER)).not.toContain(encodeURIComponent(handle.workflowId));
  });
});
