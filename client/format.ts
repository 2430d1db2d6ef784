/** Human-readable renderings of progress and results for the CLI (the --json forms print the objects as they are). */
import type { GoalProgress, GoalResult, TokenUsage } from '../workflows/definitions';

function tokens(usage: TokenUsage): string {
  return `${usage.promptTokens + usage.completionTokens} tokens`;
}

export function formatProgress(id: string, progress: GoalProgress): string {
  const lines = [`${id}  ${progress.status}  ${tokens(progress.usage)}`, `goal: ${progress.goal}`];
  for (const subtask of progress.subtasks) {
    lines.push(
      `  ${subtask.id.padEnd(8)} ${subtask.status.padEnd(9)} ${String(subtask.steps).padStart(3)} steps  ` +
        `${tokens(subtask.usage).padEnd(12)} ${subtask.title}`,
    );
  }
  return lines.join('\n');
}

export function formatResult(id: string, result: GoalResult): string {
  const lines = [`${id}  ${result.ok ? 'completed' : 'failed'}  ${tokens(result.usage)}`, '', result.report, ''];
  for (const { id: subtaskId, title, status, result: subtask } of result.subtasks) {
    lines.push(
      `  ${subtaskId} ${status === 'done' ? '✓' : '✗'} ${title}: ${subtask?.answer ?? subtask?.reason ?? status}`,
    );
  }
  return lines.join('\n');
}
