/**
 * The cost of the real-policy simulation: the full `contention` sweep of @faultline/sim (19 client
 * counts × 5 strategies × 100 runs, the real `retry` policy and backoffs on the simulator's clock)
 * against the hand-written event loop of the same model (`contention-handwritten.ts`), in one
 * process, one thread. Target (specs/performance.md): ≤ 3×.
 *
 * Run: `npx tsc -b benchmarks && node benchmarks/dist/sim-contention.js [runs]`
 * Both wall time and this process's CPU time are printed: on a shared machine the CPU-time ratio
 * is the steadier figure.
 */
import { runContention } from '@faultline/sim';
import { runHandwrittenContention } from './contention-handwritten.js';

const runs = Number(process.argv[2] ?? 100);

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function measure(work: () => unknown): Promise<{ wall: number; cpu: number }> {
  const wall = performance.now();
  const cpu = cpuMs();
  await work();
  return { wall: performance.now() - wall, cpu: cpuMs() - cpu };
}

// A short warm-up of both, so that neither pays for compilation in the measured sweep.
runHandwrittenContention({ runs: 2, clients: [10, 50] });
await runContention({ runs: 2, clients: [10, 50] });

const hand = await measure(() => runHandwrittenContention({ runs }));
const sim = await measure(() => runContention({ runs }));
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
console.log(`contention sweep, 19 client counts x 5 strategies x ${runs} runs`);
console.log(`  hand-written loop : wall ${seconds(hand.wall)}  cpu ${seconds(hand.cpu)}`);
console.log(`  @faultline/sim    : wall ${seconds(sim.wall)}  cpu ${seconds(sim.cpu)}`);
console.log(
  `  ratio (sim / hand): wall ${(sim.wall / hand.wall).toFixed(2)}x  cpu ${(sim.cpu / hand.cpu).toFixed(2)}x  (target <= 3x)`,
);
