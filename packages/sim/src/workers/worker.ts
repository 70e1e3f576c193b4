import { parentPort, workerData } from 'node:worker_threads';
import { simulate } from '../engine.js';
import { scenarios } from '../scenarios/index.js';
import type { WorkMessage, WorkRequest } from './protocol.js';

/** Simulates this worker's shard of a scenario's runs and posts the outcomes back in order. */
async function main(request: WorkRequest): Promise<void> {
  const plan = scenarios[request.scenario].plan({ seed: request.seed, runs: request.runs });
  const mine = plan.specs.filter((_, i) => i % request.count === request.shard);
  const post = (message: WorkMessage): void => parentPort!.postMessage(message);
  const outcomes = await simulate(mine, {
    onProgress: (done) => {
      if (done % 16 === 0) post({ type: 'progress', done });
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
