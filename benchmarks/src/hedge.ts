/**
 * Per-call cost of the hedge policy's success path (the first attempt wins before the delay)
 * against retry's success path (performance.md: hedge ≤ 1.5× retry), and of a disabled chaos
 * policy against `noop` (chaos.md: `enabled: false` costs no more than `noop`).
 *
 * The cases run in **interleaved rounds** (every case once per round, in a rotated order) and each
 * round measures **CPU time** (`process.cpuUsage`), not wall time: on a shared machine other
 * processes take the CPU in bursts, which wall time charges to whatever case is running, while
 * CPU time charges this process only. Figures are medians over the rounds; ratios are computed
 * within each round, then the median taken, so a slow round moves numerator and denominator
 * together.
 *
 * Run: `npx tsc -b benchmarks && node benchmarks/dist/hedge.js [--rounds 15] [--calls 200000]`
 */
import { chaosFault, chaosLatency } from '@faultline/chaos';
import { type Context, noop } from '@faultline/core';
import { hedge, learnedDelay } from '@faultline/hedge';
import { retry } from '@faultline/retry';
import { isMainModule } from './figures.js';

const fn = async (): Promise<void> => {};
const readsSignal = async (ctx: Context): Promise<boolean> => ctx.signal.aborted;

/** The cases: a name and a function making one call. */
export function hedgeCases(): ReadonlyArray<readonly [string, () => Promise<unknown>]> {
  const retries = retry({ maxAttempts: 3 });
  const hedged = hedge(); // Polly's defaults: 1 hedge after 2 s
  const hedgedShort = hedge({ delay: 10, maxHedgedAttempts: 2 });
  const learned = hedge({ delay: learnedDelay() });
  const chaosOff = chaosFault({ fault: new Error('never'), enabled: false });
  const chaosIdle = chaosLatency({ latency: 100, injectionRate: 0 });
  return [
    ['bare', () => fn()],
    ['retry', () => retries.execute(fn)],
    ['hedge', () => hedged.execute(fn)],
    ['hedge, fn reads ctx.signal', () => hedged.execute(readsSignal)],
    ['hedge, delay 10 ms, 2 hedges', () => hedgedShort.execute(fn)],
    ['hedge, learnedDelay', () => learned.execute(fn)],
    ['noop', () => noop.execute(fn)],
    ['chaos, enabled: false', () => chaosOff.execute(fn)],
    ['chaos, enabled, rate 0', () => chaosIdle.execute(fn)],
  ];
}

export interface HedgeBenchResult {
  readonly rounds: number;
  readonly calls: number;
  /** Median CPU ns per call, per case. */
  readonly ns: Readonly<Record<string, number>>;
  /** Median of the per-round ratios. */
  readonly hedgeVsRetry: number;
  readonly chaosOffVsNoop: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
};

/** Runs the interleaved rounds. */
export async function runHedgeBenchmarks(rounds = 15, calls = 200_000): Promise<HedgeBenchResult> {
  const cases = hedgeCases();
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  const hedgeRatios: number[] = [];
  const chaosRatios: number[] = [];
  // Warm-up: let the JIT settle on every case before anything is counted.
  for (const [, call] of cases) for (let i = 0; i < 20_000; i++) await call();
  for (let round = 0; round < rounds; round++) {
    const perRound = new Map<string, number>();
    for (let k = 0; k < cases.length; k++) {
      const [name, call] = cases[(k + round) % cases.length]!;
      const before = process.cpuUsage();
      for (let i = 0; i < calls; i++) await call();
      const used = process.cpuUsage(before);
      const ns = ((used.user + used.system) * 1000) / calls;
      perRound.set(name, ns);
      samples.get(name)!.push(ns);
    }
    hedgeRatios.push(perRound.get('hedge')! / perRound.get('retry')!);
    chaosRatios.push(perRound.get('chaos, enabled: false')! / perRound.get('noop')!);
  }
  const ns: Record<string, number> = {};
  for (const [name, values] of samples) ns[name] = median(values);
  return {
    rounds,
    calls,
    ns,
    hedgeVsRetry: median(hedgeRatios),
    chaosOffVsNoop: median(chaosRatios),
  };
}

if (isMainModule(import.meta.url)) {
  const arg = (flag: string, fallback: number): number => {
    const i = process.argv.indexOf(flag);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const result = await runHedgeBenchmarks(arg('--rounds', 15), arg('--calls', 200_000));
  const bare = result.ns.bare!;
  console.log(
    `node ${process.version}; ${result.rounds} interleaved rounds × ${result.calls} calls; CPU ns per call (median)`,
  );
  for (const [name, value] of Object.entries(result.ns)) {
    console.log(
      `${name.padEnd(32)} ${value.toFixed(1).padStart(8)} ns   ×bare ${(value / bare).toFixed(2)}`,
    );
  }
  const verdict = (ok: boolean): string => (ok ? 'MET' : 'MISSED');
  console.log(
    `\nhedge / retry (success path): ${result.hedgeVsRetry.toFixed(2)}× (target ≤ 1.5×) ${verdict(result.hedgeVsRetry <= 1.5)}`,
  );
  console.log(
    `chaos enabled: false / noop: ${result.chaosOffVsNoop.toFixed(2)}× (target ≤ 1.1×, noop + noise) ${verdict(result.chaosOffVsNoop <= 1.1)}`,
  );
}
