/**
 * Per-call cost of `@faultline/limits` on its success path (specs/performance.md, round 2):
 * - `rateLimiter` (memory store, token bucket) ≤ 0.6× rate-limiter-flexible's `RateLimiterMemory`
 *   `consume` and ≤ 1.5× a bare `await fn()`; a hand-written token bucket is the floor;
 * - `concurrencyLimit` ≤ 1.5× core's `bulkhead` (each algorithm, Gradient2 the case of record);
 *   a hand-written limiter that times its calls (two `performance.now()` reads, as Netflix's
 *   limiter reads `nanoTime` twice) is the floor of an adaptive limit.
 * Every case is built once and reused; limits are high enough never to refuse. Rounds are
 * interleaved (each round runs every case once, in a rotated order) and the ratios of each round
 * are computed within it; the median round is the figure of record.
 *
 * Run: `npx tsc -b benchmarks && node benchmarks/dist/limits.js [--rounds 5]` (mitata, wall
 * time), or `nice -n 10 node benchmarks/dist/limits.js --cpu [--rounds 9] [--calls 200000]`: CPU
 * time (`process.cpuUsage`) around `calls` sequential awaited calls per case and round, which a
 * shared machine disturbs less than wall time.
 */
import { bulkhead } from '@faultline/core';
import {
  aimd,
  concurrencyLimit,
  fixed,
  gcra,
  gradient2,
  rateLimiter,
  slidingWindow,
  tokenBucket,
  vegas,
} from '@faultline/limits';
import { bench, group } from 'mitata';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { type Figure, isMainModule, median, ratioLine, runRegistered } from './figures.js';

export const limitsCases = {
  bare: 'bare await fn()',
  handBucket: 'hand-written token bucket + await fn()',
  rlf: 'rate-limiter-flexible RateLimiterMemory consume + await fn()',
  tokenBucket: 'faultline rateLimiter(tokenBucket) memory',
  gcra: 'faultline rateLimiter(gcra) memory',
  slidingWindow: 'faultline rateLimiter(slidingWindow) memory',
  bulkhead: 'faultline bulkhead({ limit: 1000 })',
  gradient2: 'faultline concurrencyLimit(gradient2())',
  vegas: 'faultline concurrencyLimit(vegas())',
  aimd: 'faultline concurrencyLimit(aimd())',
  fixed: 'faultline concurrencyLimit(fixed(1000))',
  handLimiter: 'hand-written limiter, 2 clock reads + await fn()',
} as const;

type LimitsCase = keyof typeof limitsCases;

/** The floor: the least a token bucket can do per call (no key, no decision object). */
function handWrittenBucket(rate: number, burst: number): () => boolean {
  let tokens = burst;
  let updated = performance.now();
  return () => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + (now - updated) * rate);
    updated = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/**
 * The floor of an adaptive concurrency limit: a count, the call timed with two clock reads, and
 * one exponential average per sample (no queue, no events, no classification).
 */
function handWrittenLimiter(limit: number): (fn: () => Promise<void>) => Promise<void> {
  let inflight = 0;
  let average = 0;
  const failed = (error: unknown): never => {
    inflight--;
    throw error;
  };
  return (fn) => {
    if (inflight >= limit) return Promise.reject(new Error('limited'));
    inflight++;
    const start = performance.now();
    return fn().then(() => {
      inflight--;
      average = average * 0.99 + (performance.now() - start) * 0.01;
    }, failed);
  };
}

/** The body of every case, built once (policies are reused, as in production). */
function limitsBodies(): Record<LimitsCase, () => Promise<void>> {
  const fn = async (): Promise<void> => {};
  const huge = { rate: 1e12, burst: 1e9 };
  const take = handWrittenBucket(1e9, 1e9);
  const rlf = new RateLimiterMemory({ points: 1e12, duration: 1 });
  const token = rateLimiter({ limit: tokenBucket(huge) });
  const cell = rateLimiter({ limit: gcra(huge) });
  const window = rateLimiter({ limit: slidingWindow({ limit: 1e12, window: 1000 }) });
  const bulk = bulkhead({ limit: 1000 });
  const g2 = concurrencyLimit({ limit: gradient2({ max: 1000 }) });
  const veg = concurrencyLimit({ limit: vegas() });
  const additive = concurrencyLimit({ limit: aimd({ max: 1000 }) });
  const flat = concurrencyLimit({ limit: fixed(1000) });
  const limited = handWrittenLimiter(1000);
  return {
    bare: async () => {
      await fn();
    },
    handBucket: async () => {
      if (!take()) throw new Error('limited');
      await fn();
    },
    rlf: async () => {
      await rlf.consume('key');
      await fn();
    },
    tokenBucket: async () => {
      await token.execute(fn);
    },
    gcra: async () => {
      await cell.execute(fn);
    },
    slidingWindow: async () => {
      await window.execute(fn);
    },
    bulkhead: async () => {
      await bulk.execute(fn);
    },
    gradient2: async () => {
      await g2.execute(fn);
    },
    vegas: async () => {
      await veg.execute(fn);
    },
    aimd: async () => {
      await additive.execute(fn);
    },
    fixed: async () => {
      await flat.execute(fn);
    },
    handLimiter: async () => {
      await limited(fn);
    },
  };
}

/** Registers the limits cases with mitata (call before mitata's `run`). */
export function registerLimitsBenchmarks(
  order: readonly LimitsCase[] = Object.keys(limitsCases) as LimitsCase[],
): void {
  const bodies = limitsBodies();
  group('limits success path', () => {
    for (const id of order) bench(limitsCases[id], bodies[id]);
  });
}

/** Runs the limits cases `rounds` times (rotated order) and returns each round's figures. */
export async function runLimitsBenchmarks(rounds = 3): Promise<Figure[][]> {
  const ids = Object.keys(limitsCases) as LimitsCase[];
  const results: Figure[][] = [];
  for (let round = 0; round < rounds; round++) {
    const order = ids.map((_, i) => ids[(i + round) % ids.length]!);
    registerLimitsBenchmarks(order);
    results.push(await runRegistered());
  }
  return results;
}

/**
 * The same cases on CPU time: each round runs `calls` sequential awaited calls of every case (in a
 * rotated order) between two `process.cpuUsage()` readings; a figure is CPU ns per call.
 */
export async function runLimitsCpuBenchmarks(rounds = 9, calls = 200_000): Promise<Figure[][]> {
  const bodies = limitsBodies();
  const ids = Object.keys(limitsCases) as LimitsCase[];
  // Warm-up: let the JIT settle on every case before anything is counted.
  for (const id of ids) for (let i = 0; i < 20_000; i++) await bodies[id]();
  const results: Figure[][] = [];
  for (let round = 0; round < rounds; round++) {
    const figures: Figure[] = [];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[(k + round) % ids.length]!;
      const body = bodies[id];
      const before = process.cpuUsage();
      for (let i = 0; i < calls; i++) await body();
      const used = process.cpuUsage(before);
      const ns = ((used.user + used.system) * 1000) / calls;
      figures.push({ name: limitsCases[id], avgNs: ns, p50Ns: ns });
    }
    results.push(figures);
  }
  return results;
}

if (isMainModule(import.meta.url)) {
  const arg = (flag: string, fallback: number): number => {
    const i = process.argv.indexOf(flag);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const cpu = process.argv.includes('--cpu');
  const rounds = arg('--rounds', cpu ? 9 : 3);
  const calls = arg('--calls', 200_000);
  const all = cpu ? await runLimitsCpuBenchmarks(rounds, calls) : await runLimitsBenchmarks(rounds);
  const ratio = (round: Figure[], a: string, b: string) =>
    round.find((f) => f.name === a)!.avgNs / round.find((f) => f.name === b)!.avgNs;
  console.log(
    cpu
      ? `node ${process.version}, CPU time, ${rounds} interleaved rounds × ${calls} calls; medians of per-round figures`
      : `node ${process.version}, mitata (wall time), ${rounds} interleaved rounds; medians of per-round figures`,
  );
  for (const name of Object.values(limitsCases)) {
    const avg = median(all.map((round) => round.find((f) => f.name === name)!.avgNs));
    const bare = median(all.map((round) => ratio(round, name, limitsCases.bare)));
    console.log(
      `${name.padEnd(62)} avg ${avg.toFixed(1).padStart(7)} ns   ×bare ${bare.toFixed(2)}`,
    );
  }
  const targets: Array<[string, string, string, number]> = [
    [
      'rateLimiter(tokenBucket) / rate-limiter-flexible',
      limitsCases.tokenBucket,
      limitsCases.rlf,
      0.6,
    ],
    ['rateLimiter(tokenBucket) / bare await', limitsCases.tokenBucket, limitsCases.bare, 1.5],
    [
      'hand-written bucket / bare await (the floor)',
      limitsCases.handBucket,
      limitsCases.bare,
      Number.NaN,
    ],
    ['concurrencyLimit(gradient2) / bulkhead', limitsCases.gradient2, limitsCases.bulkhead, 1.5],
    ['concurrencyLimit(vegas) / bulkhead', limitsCases.vegas, limitsCases.bulkhead, 1.5],
    ['concurrencyLimit(aimd) / bulkhead', limitsCases.aimd, limitsCases.bulkhead, 1.5],
    ['concurrencyLimit(fixed) / bulkhead', limitsCases.fixed, limitsCases.bulkhead, 1.5],
    [
      'hand-written limiter (2 reads) / bulkhead (floor)',
      limitsCases.handLimiter,
      limitsCases.bulkhead,
      Number.NaN,
    ],
  ];
  console.log('');
  for (const [label, a, b, target] of targets) {
    const perRound = all.map((round) => ratio(round, a, b));
    console.log(ratioLine(label.padEnd(52), perRound, target));
  }
}
