import { parentPort, workerData } from 'node:worker_threads';
import { simulate } from '../engine.js';
import type { WorkMessage, WorkRequest } from './protocol.js';
import { definitionFrom } from './source.js';

/** Simulates this worker's shard of a scenario's runs and posts the outcomes back in order. */
async function main(request: WorkRequest): Promise<void> {
  const definition = await definitionFrom(request.source);
  const plan = definition.plan({ seed: request.seed, runs: request.runs });
  const mine = plan.specs.filter((_, i) => i % request.count === request.shard);
  const post = (message: WorkMessage): void => parentPort!.postMessage(message);
  const outcomes = await simulate(mine, {
    ...plan.simulate,
    onProgress: (done) => {
      if (done % 4 === 0) post({ type: 'progress', done });
    },
  });
  post({ type: 'done', outcomes });
}

main(workerData as WorkRequest).catch((error: unknown) => {
  parentPort!.postMessage({
    type: 'error',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  } satisfies WorkMessage);
});
