/**
 * Loops are named: the same tool call with the same arguments REPEATED_CALL_LIMIT times in a row is told to the model
 * as repetition (workflows/executor/repetition.ts), pure and in a whole executor on a real server.
 */
import { checkRepetition, REPEATED_CALL_LIMIT, type RepetitionState } from '../workflows/executor/repetition';
import { match, reply } from '../dev/scripted-model';
import { startTandem, type Tandem } from './helpers/tandem';

const onePlusOne = { name: 'calculator', arguments: '{"expression":"1+1"}' };

/** Feeds steps of calls through the check; returns each step's note. */
function notes(steps: Array<Array<{ name: string; arguments: string }>>): Array<string | undefined> {
  let state: RepetitionState | undefined;
  return steps.map((calls) => {
    const check = checkRepetition(state, calls);
    state = check.state;
    return check.note;
  });
}

describe('repeated tool calls (pure)', () => {
  it(`names the ${REPEATED_CALL_LIMIT}rd identical call in a row, and every one after it`, () => {
    const said = notes([[onePlusOne], [onePlusOne], [onePlusOne], [onePlusOne]]);
    expect(said.slice(0, 2)).toEqual([undefined, undefined]);
    expect(said[2]).toMatch(/called calculator with the same arguments 3 times in a row/);
    expect(said[3]).toMatch(/4 times in a row/);
  });

  it('counts arguments equal as data as the same, whatever their key order or spacing', () => {
    const a = { name: 'write_file', arguments: '{"path":"a.txt","content":"x"}' };
    const b = { name: 'write_file', arguments: '{ "content": "x", "path": "a.txt" }' };
    expect(notes([[a], [b], [a]])[2]).toMatch(/3 times in a row/);
  });

  it('counts calls within one step in order', () => {
    expect(notes([[onePlusOne, onePlusOne, onePlusOne]])[0]).toMatch(/3 times in a row/);
  });

  it('starts again after a different call or different arguments', () => {
    const other = { name: 'calculator', arguments: '{"expression":"2+2"}' };
    expect(notes([[onePlusOne], [onePlusOne], [other], [onePlusOne], [onePlusOne]])).toEqual(Array(5).fill(undefined));
  });
});

describe('repeated tool calls in a whole executor', () => {
  let tandem: Tandem;
  beforeEach(async () => {
    tandem = await startTandem({ model: { strict: true } });
  });
  afterEach(async () => {
    await tandem.stop();
  });

  it('tells the model it repeats calculator {"expression":"1+1"} (the issue example), until the budget ends it', async () => {
    tandem.model.on(match.any, [reply.toolCall('calculator', { expression: '1+1' })], { repeatLast: true });
    const run = await tandem.startExecutor(tandem.goalId('repeat'), { budget: { maxSteps: 5 } });
    const result = await run.result();
    expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'budget', budget: 'steps' }));
    const lastUser = tandem.model.requests.map((request) => request.lastUserText);
    expect(lastUser[2]).not.toMatch(/in a row/);
    expect(lastUser[3]).toMatch(/called calculator with the same arguments 3 times in a row/);
    expect(lastUser[4]).toMatch(/4 times in a row/);
    expect(result.evidence).toMatch(/3 times in a row/);
  });
});
