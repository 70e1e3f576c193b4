import { Worker } from 'node:worker_threads';
import type { ScenarioDefinition, ScenarioReportBase } from '../scenarios/definition.js';
import type { ScenarioSource, WorkMessage, WorkRequest } from './protocol.js';

/**
 * Runs a scenario's runs on `workers` worker threads (run i goes to worker i mod n) and merges
 * the outcomes in run order before aggregating, so the report is identical for any `workers`.
 * `definition` is the scenario in this thread (it aggregates); `source` tells each worker how to
 * build the same one. Needs the built package (the worker loads `dist/workers/worker.js`).
 */
export async function runOnWorkers<R extends ScenarioReportBase>(
  definition: ScenarioDefinition<R>,
  source: ScenarioSource,
  options: {
    readonly seed: number;
    readonly runs: number;
    readonly workers: number;
    readonly onProgress?: (done: number, total: number) => void;
  },
): Promise<R> {
  const { seed, runs } = options;
  const plan = definition.plan({ seed, runs });
  const total = plan.specs.length;
  const count = Math.max(1, Math.min(options.workers, total));
  const progress = new Array<number>(count).fill(0);
  const shards = await Promise.all(
    Array.from({ length: count }, (_, shard) => {
      const request: WorkRequest = { source, seed, runs, shard, count };
      return new Promise<readonly unknown[]>((resolve, reject) => {
        const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: request });
        worker.on('message', (message: WorkMessage) => {
          if (message.type === 'progress') {
            progress[shard] = message.done;
            options.onProgress?.(
              progress.reduce((a, b) => a + b, 0),
              total,
            );
          } else if (message.type === 'done') {
            resolve(message.outcomes);
            void worker.terminate();
          } else {
            reject(new Error(`worker ${shard}: ${message.message}`));
            void worker.terminate();
          }
        });
        worker.on('error', reject);
      });
    }),
  );
  const outcomes = new Array<unknown>(total);
  shards.forEach((shard, s) => {
    shard.forEach((outcome, k) => {
      outcomes[s + k * count] = outcome;
    });
  });
  options.onProgress?.(total, total);
  return plan.aggregate(outcomes);
}
