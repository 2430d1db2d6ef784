/**
 * What the live event stream (docs/stream.md) and OpenTelemetry tracing (docs/tracing.md) cost per ReAct step: the
 * same standalone executor loop on four workers of one process, one dev server and one scripted model, with neither,
 * each, and both on; ratios to the run with neither. Four rounds, the variants in turn, steps pooled per variant, so a
 * machine that slows during the run slows every variant alike.
 *
 * Traces go to an OTLP/HTTP endpoint here that accepts and drops them: the figure is the worker's cost (span
 * building, batching, encoding, one POST per batch), not a collector's.
 */
import type { Client } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../node/config';
import { createTandemWorker } from '../worker/worker';
import { runStandaloneExecutor } from './contenders';
import type { StepClock } from './loop-script';
import { percentile } from './stats';

/** One variant's steps: p50 and p95 in ms, and p50 as a ratio to the variant with neither on. */
export interface ObservabilityFigures {
  variant: string;
  stepP50Ms: number;
  stepP95Ms: number;
  ratio: number;
  steps: number;
}

const VARIANTS = [
  { variant: 'neither', stream: false, tracing: false },
  { variant: 'live stream', stream: true, tracing: false },
  { variant: 'tracing', stream: false, tracing: true },
  { variant: 'both', stream: true, tracing: true },
] as const;
/** Rounds of every variant: the machine's drift during the run averages out over them. */
export const OBSERVABILITY_ROUNDS = 4;

/** An OTLP/HTTP endpoint that reads each export whole and answers 200 with an empty body, as a collector does. */
async function discardingCollector(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function observabilityCost(
  client: Client,
  clock: StepClock,
  opts: { address: string; steps: number; bundleCode: string; workerOptions: Partial<WorkerOptions> },
): Promise<ObservabilityFigures[]> {
  const collector = await discardingCollector();
  const workers = await Promise.all(
    VARIANTS.map(async ({ variant, stream, tracing }, index) => {
      const config = loadConfig({
        ...process.env,
        TANDEM_LIVE_STREAM: String(stream),
        OTEL_EXPORTER_OTLP_ENDPOINT: tracing ? collector.url : '',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
      });
      const taskQueue = `bench-observability-${index}`;
      const tandem = await createTandemWorker({
        config,
        settings: { connectionOptions: { address: opts.address }, namespace: 'default', taskQueue },
        workflowBundle: { code: opts.bundleCode },
        options: opts.workerOptions,
      });
      return { variant, taskQueue, tandem, running: tandem.worker.run() };
    }),
  );
  try {
    const steps = new Map<string, number[]>();
    for (let round = 0; round < OBSERVABILITY_ROUNDS; round++) {
      for (const { variant, taskQueue } of workers) {
        const tag = `observability-${variant.replace(/ /g, '-')}-${round}`;
        await runStandaloneExecutor(client, { taskQueue, steps: opts.steps, tag });
        steps.set(variant, [...(steps.get(variant) ?? []), ...clock.steps(tag)]);
      }
    }
    const base = percentile(steps.get('neither')!, 50);
    return VARIANTS.map(({ variant }) => {
      const own = steps.get(variant)!;
      const stepP50Ms = percentile(own, 50);
      return { variant, stepP50Ms, stepP95Ms: percentile(own, 95), ratio: stepP50Ms / base, steps: own.length };
    });
  } finally {
    for (const { tandem, running } of workers) {
      tandem.worker.shutdown();
      await running;
      await tandem.tracing?.shutdown();
      await tandem.connection.close();
    }
    await collector.close();
  }
}
