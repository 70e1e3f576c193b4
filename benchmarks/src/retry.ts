/**
 * Per-call cost of the retry policy's success path against cockatiel's `retry` and `p-retry`
 * (specs/performance.md: ≤ 1.0× cockatiel and ≤ 2× a bare `await fn()`). Policies are built once
 * and reused; `fn = async () => {}`, and a variant where `fn` reads `ctx.signal` (as fetch would).
 *
 * Run: `npx tsc -b benchmarks && node benchmarks/dist/retry.js`
 * Export for `pnpm bench`: `registerRetryBenchmarks()` adds the cases to mitata's current run;
 * `runRetryBenchmarks()` runs them alone and returns the figures.
 */
import { retry, tokenBucketBudget } from '@faultline/retry';
import { retry as cockatielRetry, ExponentialBackoff, handleAll } from 'cockatiel';
import { bench, group } from 'mitata';
import pRetry from 'p-retry';
import { type Figure, figureLine, isMainModule, runRegistered } from './figures.js';

export const retryCases = {
  bare: 'bare await fn()',
  cockatiel: 'cockatiel retry (maxAttempts 3, exponential)',
  cockatielSignal: 'cockatiel retry, fn reads signal',
  pRetry: 'p-retry pRetry(fn)',
  ours: 'faultline retry()',
  oursSignal: 'faultline retry(), fn reads ctx.signal',
  oursBudget: 'faultline retry({ budget: tokenBucketBudget })',
} as const;

/** Registers the retry cases with mitata (call before mitata's `run`). */
export function registerRetryBenchmarks(): void {
  group('retry success path', () => {
    const fn = async (): Promise<void> => {};
    const readsSignal = async (ctx: { signal: AbortSignal }): Promise<boolean> =>
      ctx.signal.aborted;
    const cockatiel = cockatielRetry(handleAll, {
      maxAttempts: 2, // cockatiel counts retries: 2 = 3 attempts, like ours with maxAttempts 3
      backoff: new ExponentialBackoff(),
    });
    const ours = retry({ maxAttempts: 3 });
    const withBudget = retry({
      maxAttempts: 3,
      budget: tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 }),
    });
    bench(retryCases.bare, async () => {
      await fn();
    });
    bench(retryCases.cockatiel, async () => {
      await cockatiel.execute(fn);
    });
    bench(retryCases.cockatielSignal, async () => {
      await cockatiel.execute(readsSignal);
    });
    bench(retryCases.pRetry, async () => {
      await pRetry(fn, { retries: 2 });
    });
    bench(retryCases.ours, async () => {
      await ours.execute(fn);
    });
    bench(retryCases.oursSignal, async () => {
      await ours.execute(readsSignal);
    });
    bench(retryCases.oursBudget, async () => {
      await withBudget.execute(fn);
    });
  });
}

/** One case's figures (kept as an alias of the shared {@link Figure}). */
export type RetryFigure = Figure;

/** Runs only the retry cases and returns ns per iteration (avg and p50). */
export async function runRetryBenchmarks(): Promise<RetryFigure[]> {
  registerRetryBenchmarks();
  return runRegistered();
}

if (isMainModule(import.meta.url)) {
  const figures = await runRetryBenchmarks();
  const bare = figures.find((f) => f.name === retryCases.bare)?.avgNs ?? Number.NaN;
  const cockatiel = figures.find((f) => f.name === retryCases.cockatiel)?.avgNs ?? Number.NaN;
  console.log(`node ${process.version}`);
  for (const f of figures) {
    console.log(
      `${figureLine(f, 50)}   ×bare ${(f.avgNs / bare).toFixed(2)}   ×cockatiel ${(f.avgNs / cockatiel).toFixed(2)}`,
    );
  }
}
