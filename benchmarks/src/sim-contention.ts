/**
 * The cost of the real-policy simulation: the full `contention` sweep of @faultline/sim (19 client
 * counts × 5 strategies × `runs` runs, the real `retry` policy and backoffs on the simulator's
 * clock) against the hand-written event loop of the same model (`contention-handwritten.ts`), in
 * one process, one thread, in interleaved rounds (hand, simulator, hand, …; medians). Target
 * (performance.md, round 2): ≤ 1.5× (it was ≤ 3× in round 1).
 *
 * A third line separates the engine's cost from the policy's: the same model on the simulator's
 * engine and network with the retry loop written inline in an async client (no policy object).
 *
 * Run: `npx tsc -b benchmarks && node benchmarks/dist/sim-contention.js [runs] [rounds]`
 * CPU time is the figure of record (steadier than wall time on a shared machine); the load
 * average is printed with it, since the ratio grows with the machine's load (the simulator's
 * promise-heavy work suffers more from a shared cache and memory bus than the hand loop's
 * typed arrays).
 */
import { loadavg } from 'node:os';
import { seededRandom } from '@faultline/core';
import { Network, normal, runContention, type SimulationRun, simulate } from '@faultline/sim';
import { runHandwrittenContention } from './contention-handwritten.js';
import { isMainModule, median } from './figures.js';

const hop = normal(10, 2);
const conflict = new Error('write conflict');
const CLIENTS = Array.from({ length: 19 }, (_, i) => 10 * (i + 1));
const STRATEGIES = ['none', 'exponential', 'full', 'equal', 'decorrelated'] as const;
const BASE = 5;
const CAP = 2000;

/** The OCC model on the engine with the retry loop inline (Brooker's backoffs, no policy). */
function engineOnlyRun(
  clients: number,
  strategy: (typeof STRATEGIES)[number],
  seed: number,
): SimulationRun<{ calls: number; time: number }> {
  return {
    setup(clock) {
      const random = seededRandom(seed);
      const row = { version: 0, calls: 0, last: 0 };
      const network = new Network(clock, random, { latency: hop });
      interface Client {
        seen: number;
        written: boolean;
        resolve: () => void;
        reject: (e: unknown) => void;
      }
      const writeReply = (c: Client): void => (c.written ? c.resolve() : c.reject(conflict));
      const writeAt = (c: Client): void => {
        row.calls++;
        c.written = c.seen === row.version;
        if (c.written) row.version++;
        network.send(writeReply, c);
      };
      const readReply = (c: Client): void => network.post(writeAt, c);
      const readAt = (c: Client): void => {
        c.seen = row.version;
        network.post(readReply, c);
      };
      for (let i = 0; i < clients; i++) {
        const c: Client = { seen: 0, written: false, resolve: () => {}, reject: () => {} };
        void (async () => {
          let held = 0;
          let previous = BASE;
          for (let n = 1; ; n++) {
            try {
              await new Promise<void>((resolve, reject) => {
                c.resolve = resolve;
                c.reject = reject;
                network.post(readAt, c, held);
              });
              break;
            } catch {
              const e = Math.min(CAP, BASE * 2 ** n);
              if (strategy === 'none') held = 0;
              else if (strategy === 'exponential') held = e;
              else if (strategy === 'full') held = random() * e;
              else if (strategy === 'equal') held = e / 2 + random() * (e / 2);
              else {
                previous = Math.min(CAP, BASE + random() * (previous * 3 - BASE));
                held = previous;
              }
            }
          }
          row.last = clock.now();
        })();
      }
      return { result: () => ({ calls: row.calls, time: row.last }) };
    },
  };
}

function engineOnly(runs: number): Promise<unknown> {
  const specs = CLIENTS.flatMap((clients) =>
    STRATEGIES.flatMap((strategy, s) =>
      Array.from({ length: runs }, (_, run) =>
        engineOnlyRun(clients, strategy, clients * 7919 + s * 131 + run),
      ),
    ),
  );
  return simulate(specs);
}

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

if (isMainModule(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 100);
  const rounds = Number(process.argv[3] ?? 1);
  // A short warm-up of each, so that none pays for compilation in the measured sweeps.
  runHandwrittenContention({ runs: 2, clients: [10, 50] });
  await runContention({ runs: 2, clients: [10, 50] });
  await engineOnly(1);
  const load = loadavg()[0]!;
  const samples = { hand: [] as number[], sim: [] as number[], engine: [] as number[] };
  const walls = { hand: [] as number[], sim: [] as number[], engine: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const hand = await measure(() => runHandwrittenContention({ runs }));
    const sim = await measure(() => runContention({ runs }));
    const engine = await measure(() => engineOnly(runs));
    samples.hand.push(hand.cpu);
    samples.sim.push(sim.cpu);
    samples.engine.push(engine.cpu);
    walls.hand.push(hand.wall);
    walls.sim.push(sim.wall);
    walls.engine.push(engine.wall);
  }
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const hand = median(samples.hand);
  const sim = median(samples.sim);
  const engine = median(samples.engine);
  console.log(
    `contention sweep, 19 client counts x 5 strategies x ${runs} runs, ${rounds} interleaved round(s), medians; load average ${load.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`,
  );
  console.log(`  hand-written loop            : cpu ${s(hand)}  wall ${s(median(walls.hand))}`);
  console.log(`  @faultline/sim, real retry   : cpu ${s(sim)}  wall ${s(median(walls.sim))}`);
  console.log(`  engine, inline retry loop    : cpu ${s(engine)}  wall ${s(median(walls.engine))}`);
  console.log(
    `  ratio to the hand loop (cpu) : real retry ${(sim / hand).toFixed(2)}x (target <= 1.5x), engine alone ${(engine / hand).toFixed(2)}x`,
  );
}
