/**
 * Where each interrupt of the goal is, from its arrival to a model or to the undelivered count, so that every one
 * sent is one or the other (docs/executor.md): queued for a subtask that has not started, held while its child
 * starts, handed to a running executor (which reports how many its model was shown), or counted undelivered when no
 * model can read it any more. The counting rules are pure and tested without a server (test/goal-state.test.ts).
 */
import { log } from '@temporalio/workflow';
import type { InterruptPayload } from '../../common/contract';
import { interruptsSignal } from '../../common/contract';
import { interruptBatches } from '../../common/limits';
import { signalExecutor } from './goal-effects';
import type { Goal } from './goal-publish';
import { ANY_SUBTASK, type ChildRun, entryOf, type GoalState, isFinished, runningEntries, runOf } from './goal-state';

/**
 * The loop is about to signal `count` interrupts to a running run. They count as handed over before the signal
 * resolves: the run's result may reach the planner while the signal is in flight, and its `interruptsShown` is then
 * measured against them (shown, or undelivered), so none falls between the two.
 */
export function interruptsHandedOver(run: ChildRun, count: number): void {
  run.interruptsSent = (run.interruptsSent ?? 0) + count;
}

/**
 * The signal of `count` interrupts failed: the run had closed. Returns how many the goal counts undelivered now: none
 * when the run's result already counted them (they were handed over and never shown), all when it has not come yet.
 */
export function interruptsBounced(run: ChildRun, count: number): number {
  if (run.phase === 'returned' || run.phase === 'settled') return 0;
  run.interruptsSent = (run.interruptsSent ?? 0) - count;
  return count;
}

/**
 * The goal stops taking interrupts (it is reporting): those still in the inbox, or queued for subtasks that will not
 * start now, reach no model and are counted undelivered; later ones are counted as they come (see {@link interruptArrived}).
 */
export function interruptsClosed(state: GoalState): void {
  const queued = Object.values(state.queuedInterrupts).reduce((sum, queue) => sum + queue.length, 0);
  state.undelivered += state.interruptInbox.splice(0).length + queued;
  state.queuedInterrupts = {};
}

/** An interrupt for the loop; once the goal is finishing it is counted undelivered at once. Returns whether it waits. */
export function interruptArrived(state: GoalState, interrupt: InterruptPayload): boolean {
  if (isFinished(state)) {
    state.undelivered += 1;
    return false;
  }
  state.interruptInbox.push(interrupt);
  return true;
}

/** The interrupts queued for `subtaskId` that fit its input; the rest follow by signal once it runs. */
export function takeQueuedInterrupts(goal: Goal, subtaskId: string): string[] | undefined {
  const { state } = goal;
  const queued = [...(state.queuedInterrupts[ANY_SUBTASK] ?? []), ...(state.queuedInterrupts[subtaskId] ?? [])];
  delete state.queuedInterrupts[subtaskId];
  if (queued.length === 0) return undefined;
  const [first, ...rest] = interruptBatches(queued);
  const later = rest.flat();
  if (later.length > 0) state.interruptInbox.push(...later.map((message) => ({ message, subtaskId })));
  return first;
}

/**
 * Every interrupt that arrived since the last turn, in one `interrupts` signal per running executor (in batches under
 * the payload limit); one for a subtask that has not started waits in its queue and goes into its input when it
 * starts; one for all subtasks while none runs waits for the next to start. One for a subtask that already ended is
 * counted as undelivered (`undeliveredInterrupts`), never dropped in silence.
 */
export async function deliverInterrupts(goal: Goal): Promise<void> {
  const { state } = goal;
  const now = new Map<string, string[]>();
  for (const { message, subtaskId } of state.interruptInbox.splice(0)) {
    const targets = runningEntries(state).filter((entry) => !subtaskId || entry.subtask.id === subtaskId);
    for (const entry of targets) now.set(entry.runWorkflowId!, [...(now.get(entry.runWorkflowId!) ?? []), message]);
    if (targets.length > 0) continue;
    const entry = subtaskId === undefined ? undefined : entryOf(state, subtaskId);
    if (subtaskId === undefined || entry?.status === 'pending') {
      (state.queuedInterrupts[subtaskId ?? ANY_SUBTASK] ??= []).push(message);
    } else {
      state.undelivered += 1;
      log.warn('interrupt not delivered: the subtask is not pending or running', { subtaskId, status: entry?.status });
    }
  }
  for (const [workflowId, messages] of now) {
    const run = runOf(state, workflowId)!;
    if (run.phase === 'starting') {
      // A signal cannot reach a child that has not started: they go back to the inbox when it has (see `dispatch`).
      (run.heldInterrupts ??= []).push(...messages);
      continue;
    }
    if (run.phase !== 'running') {
      // The executor returned before the planner's turn: there is no next model call of that run to hand them to.
      state.undelivered += messages.length;
      log.warn('interrupts not delivered: the subtask had already returned', { subtask: run.subtaskId });
      continue;
    }
    for (const batch of interruptBatches(messages)) {
      interruptsHandedOver(run, batch.length);
      if (!(await signalExecutor(workflowId, interruptsSignal, { messages: batch }))) {
        state.undelivered += interruptsBounced(run, batch.length);
      }
    }
  }
}
