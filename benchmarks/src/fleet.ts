/**
 * Per-call cost of the fleet policies' success paths against the local ones (performance.md:
 * `fleetBreaker` / `fleetBudget` success path ≤ 1.5× the local breaker / budget). The fleet
 * policies sync in the background (every 250 ms) with a real Redis when one is reachable
 * (`REDIS_URL`, default redis://127.0.0.1:6379), else with the memory store; the call path never
 * touches it either way.
 *
 * Interleaved rounds, CPU time per round (`process.cpuUsage`), medians of per-round ratios (see
 * hedge.ts for why).
 *
 * Run: `npx tsc -b benchmarks && node benchmarks/dist/fleet.js [--rounds 15] [--calls 200000]`
 */
import { circuitBreaker, consecutiveFailures, failureRate } from '@faultline/breaker';
import { type FleetStore, fleetBreaker, fleetBudget, memoryFleetStore } from '@faultline/fleet';
import { redisFleetStore } from '@faultline/fleet/redis';
import { ratioBudget, retry } from '@faultline/retry';
import { Redis } from 'ioredis';
import { isMainModule } from './figures.js';

const fn = async (): Promise<void> => {};

interface Store {
  readonly store: FleetStore;
  readonly kind: string;
  close(): void;
}

async function openStore(): Promise<Store> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const prefix = `faultline:bench:fleet:${process.pid}:`;
    return {
      store: redisFleetStore({ client, prefix }),
      kind: 'redis',
      close: () => client.disconnect(),
    };
  } catch {
    client.disconnect();
    return { store: memoryFleetStore(), kind: 'memory', close: () => {} };
  }
}

/** The cases: a name and a function making one call. */
export function fleetCases(store: FleetStore) {
  const name = `bench-${Math.random().toString(36).slice(2)}`;
  const breaker = circuitBreaker({ trip: consecutiveFailures(5) });
  const fleet = fleetBreaker({ store, name, trip: consecutiveFailures(5) });
  const rateTrip = failureRate({ threshold: 0.5, minimumThroughput: 20, window: 30_000 });
  const breakerRate = circuitBreaker({ trip: rateTrip });
  const fleetRate = fleetBreaker({ store, name: `${name}-rate`, trip: rateTrip });
  const local = ratioBudget();
  const shared = fleetBudget({ store, name });
  const retryLocal = retry({ budget: ratioBudget() });
  const retryShared = retry({ budget: fleetBudget({ store, name: `${name}-retry` }) });
  const cases: ReadonlyArray<readonly [string, () => unknown]> = [
    ['circuitBreaker, consecutive', () => breaker.execute(fn)],
    ['fleetBreaker, consecutive', () => fleet.execute(fn)],
    ['circuitBreaker, failureRate', () => breakerRate.execute(fn)],
    ['fleetBreaker, failureRate', () => fleetRate.execute(fn)],
    [
      'ratioBudget begin+succeed',
      () => {
        local.begin().succeed();
      },
    ],
    [
      'fleetBudget begin+succeed',
      () => {
        shared.begin().succeed();
      },
    ],
    ['retry + ratioBudget', () => retryLocal.execute(fn)],
    ['retry + fleetBudget', () => retryShared.execute(fn)],
  ];
  const close = () => {
    fleet.dispose();
    fleetRate.dispose();
    shared.dispose();
  };
  return { cases, close };
}

const PAIRS = [
  ['fleetBreaker, consecutive', 'circuitBreaker, consecutive'],
  ['fleetBreaker, failureRate', 'circuitBreaker, failureRate'],
  ['fleetBudget begin+succeed', 'ratioBudget begin+succeed'],
  ['retry + fleetBudget', 'retry + ratioBudget'],
] as const;

export interface FleetBenchResult {
  readonly store: string;
  readonly rounds: number;
  readonly calls: number;
  readonly ns: Readonly<Record<string, number>>;
  /** Median of the per-round ratios, fleet / local. */
  readonly ratios: Readonly<Record<string, number>>;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
};

export async function runFleetBenchmarks(rounds = 15, calls = 200_000): Promise<FleetBenchResult> {
  const opened = await openStore();
  const { cases, close } = fleetCases(opened.store);
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  const ratioSamples = new Map<string, number[]>(PAIRS.map(([a]) => [a, []]));
  const run = async (call: () => unknown, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await call();
  };
  for (const [, call] of cases) await run(call, 20_000);
  for (let round = 0; round < rounds; round++) {
    const perRound = new Map<string, number>();
    // Rotated order, and every other round reversed: both orders of each pair.
    const order = cases.map((_, k) => cases[(k + round) % cases.length]!);
    if (round % 2 === 1) order.reverse();
    for (const [name, call] of order) {
      const before = process.cpuUsage();
      await run(call, calls);
      const used = process.cpuUsage(before);
      const ns = ((used.user + used.system) * 1000) / calls;
      perRound.set(name, ns);
      samples.get(name)!.push(ns);
    }
    for (const [fleet, local] of PAIRS) {
      ratioSamples.get(fleet)!.push(perRound.get(fleet)! / perRound.get(local)!);
    }
  }
  close();
  opened.close();
  const ns: Record<string, number> = {};
  for (const [name, values] of samples) ns[name] = median(values);
  const ratios: Record<string, number> = {};
  for (const [name, values] of ratioSamples) ratios[name] = median(values);
  return { store: opened.kind, rounds, calls, ns, ratios };
}

if (isMainModule(import.meta.url)) {
  const arg = (flag: string, fallback: number): number => {
    const i = process.argv.indexOf(flag);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const result = await runFleetBenchmarks(arg('--rounds', 15), arg('--calls', 200_000));
  console.log(
    `node ${process.version}; store ${result.store}; ${result.rounds} interleaved rounds × ${result.calls} calls; CPU ns per call (median)`,
  );
  for (const [name, value] of Object.entries(result.ns)) {
    console.log(`${name.padEnd(30)} ${value.toFixed(1).padStart(8)} ns`);
  }
  console.log('');
  for (const [fleet, local] of PAIRS) {
    const ratio = result.ratios[fleet]!;
    console.log(
      `${fleet} / ${local}: ${ratio.toFixed(2)}× (target ≤ 1.5×) ${ratio <= 1.5 ? 'MET' : 'MISSED'}`,
    );
  }
}
