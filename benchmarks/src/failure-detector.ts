/**
 * Per-call cost of the phi accrual failure detector: one `heartbeat()` followed by one `phi()`,
 * the pair a node runs per received heartbeat and per check. Target (specs/performance.md):
 * ≤ 150 ns per pair on Node 20.
 *
 * Run: `npx tsc -b benchmarks && node benchmarks/dist/failure-detector.js`
 * Export for `pnpm bench`: `registerFailureDetectorBenchmarks()` adds the cases to mitata's
 * current run; `runFailureDetectorBenchmarks()` runs them alone and returns the figures.
 */
import type { Clock } from '@faultline/clock';
import { systemClock } from '@faultline/clock';
import { ExponentialDetector, PhiAccrualDetector, phi } from '@faultline/failure-detector';
import { bench, do_not_optimize, group } from 'mitata';
import { type Figure, figureLine, isMainModule, runRegistered } from './figures.js';

/** A deterministic clock that moves by a jittered ~1 s step on every read: every heartbeat is a
 * new ~1 s interval, the peer stays available, so each `heartbeat()` takes the append path. */
function steppingClock(): Clock {
  const steps = [990, 1010, 1000, 1020, 980, 1005, 995, 1000];
  let time = 0;
  let i = 0;
  return {
    now: () => {
      time += steps[i]! / 2; // two reads (heartbeat, phi) per pair
      i = (i + 1) & 7;
      return time;
    },
    sleep: (ms, signal) => systemClock.sleep(ms, signal),
    setTimer: (ms, callback, options) => systemClock.setTimer(ms, callback, options),
  };
}

export const failureDetectorCases = {
  pairSystemClock: 'PhiAccrualDetector heartbeat() + phi(), systemClock',
  pairSteppingClock: 'PhiAccrualDetector heartbeat() + phi(), ~1 s intervals',
  exponentialPair: 'ExponentialDetector heartbeat() + phi(), systemClock',
  purePhi: 'phi(elapsed, mean, stdDeviation) alone',
  clockFloor: 'two performance.now() reads (the clock floor)',
} as const;

/** Registers the failure-detector cases with mitata (call before mitata's `run`). */
export function registerFailureDetectorBenchmarks(): void {
  group('failure-detector', () => {
    const real = new PhiAccrualDetector();
    bench(failureDetectorCases.pairSystemClock, () => {
      real.heartbeat();
      do_not_optimize(real.phi());
    });

    const stepped = new PhiAccrualDetector({ clock: steppingClock() });
    bench(failureDetectorCases.pairSteppingClock, () => {
      stepped.heartbeat();
      do_not_optimize(stepped.phi());
    });

    const exponential = new ExponentialDetector();
    bench(failureDetectorCases.exponentialPair, () => {
      exponential.heartbeat();
      do_not_optimize(exponential.phi());
    });

    let x = 0;
    bench(failureDetectorCases.purePhi, () => {
      x = (x + 7) % 2000;
      do_not_optimize(phi(x, 1000, 100));
    });

    bench(failureDetectorCases.clockFloor, () => {
      do_not_optimize(performance.now());
      do_not_optimize(performance.now());
    });
  });
}

/** One case's figures (kept as an alias of the shared {@link Figure}). */
export type FailureDetectorFigure = Figure;

/** Runs only the failure-detector cases and returns ns per iteration (avg and p50). */
export async function runFailureDetectorBenchmarks(): Promise<FailureDetectorFigure[]> {
  registerFailureDetectorBenchmarks();
  return runRegistered();
}

if (isMainModule(import.meta.url)) {
  const figures = await runFailureDetectorBenchmarks();
  console.log(`node ${process.version}`);
  for (const f of figures) console.log(figureLine(f, 58));
  const pair = figures.find((f) => f.name === failureDetectorCases.pairSystemClock);
  if (pair !== undefined) {
    console.log(
      `heartbeat() + phi(): avg ${pair.avgNs.toFixed(0)} ns, p50 ${pair.p50Ns.toFixed(0)} ns per pair (target <= 150 ns)`,
    );
  }
}
