/**
 * The durable peer off Temporal: LangGraph JS's prebuilt ReAct agent (`createReactAgent`) with its SQLite checkpointer,
 * in this process, against the same scripted model through `@langchain/openai`. It checkpoints after every graph step
 * (model node, tools node), which is its durability; the checkpoint bytes stand in for history bytes.
 */
import { tool } from '@langchain/core/tools';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { ChatOpenAI } from '@langchain/openai';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { floorCalculator } from './floor/activities';

/** What one LangGraph run cost in its checkpoint store. */
export interface LangGraphRun {
  steps: number;
  checkpointBytes: number;
  checkpoints: number;
}

/** Runs one conversation to its end on a fresh SQLite file; counts the checkpoint and pending-write bytes stored. */
export async function runLangGraph(opts: {
  baseURL: string;
  dbFile: string;
  threadId: string;
  instructions: string;
  maxSteps: number;
}): Promise<LangGraphRun> {
  const db = new Database(opts.dbFile);
  try {
    const agent = createReactAgent({
      llm: new ChatOpenAI({
        model: 'scripted-model',
        apiKey: 'bench',
        maxRetries: 0,
        useResponsesApi: false,
        configuration: { baseURL: opts.baseURL },
      }),
      tools: [
        tool(({ expression }: { expression: string }) => floorCalculator(JSON.stringify({ expression })), {
          name: 'calculator',
          description: 'Evaluate an arithmetic expression. Returns the number.',
          schema: z.object({ expression: z.string() }),
        }),
      ],
      prompt: 'You are a benchmark agent.',
      checkpointSaver: new SqliteSaver(db),
    });
    const result = await agent.invoke(
      { messages: [{ role: 'user', content: opts.instructions }] },
      // Two graph steps (model, tools) per ReAct step, plus the final answer.
      { configurable: { thread_id: opts.threadId }, recursionLimit: 2 * opts.maxSteps + 5 },
    );
    const sizes = db
      .prepare(
        `SELECT (SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints WHERE thread_id = ?)
              + (SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = ?) AS bytes,
                (SELECT COUNT(*) FROM checkpoints WHERE thread_id = ?) AS checkpoints`,
      )
      .get(opts.threadId, opts.threadId, opts.threadId) as { bytes: number; checkpoints: number };
    const steps = result.messages.filter((message: { getType(): string }) => message.getType() === 'ai').length;
    return { steps, checkpointBytes: sizes.bytes, checkpoints: sizes.checkpoints };
  } finally {
    db.close();
  }
}
