/**
 * The model settings of the eval and of the structured-output measurement (docs/eval.md): both talk to the CI suite's
 * llama-server (test/llama/llama-server.ts) with the same caps, so the modes are measured as the eval uses them.
 */
import type { ModelConfig } from '../../node/config';

/** The model the CI suite's llama-server serves, as the eval's output names it. */
export const EVAL_MODEL = 'SmolLM2-135M-Instruct Q4_1 on llama-server';

/** What the eval sets over the loaded config's model settings. */
export const EVAL_MODEL_SETTINGS = {
  model: 'smollm2',
  // Short replies: a 135M model gains nothing from more, and every token costs seconds on 2 shared cores.
  maxOutputTokens: { plan: 160, step: 64, judge: 48, report: 48 },
  timeoutMs: 300_000,
  stallMs: 120_000,
} satisfies Partial<ModelConfig>;
