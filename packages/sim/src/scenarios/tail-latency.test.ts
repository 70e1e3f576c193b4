import { describe, expect, it } from 'vitest';
import { planTailLatency, runTailLatency, tailLatencyPolicies } from './tail-latency.js';

describe('tail-latency (The Tail at Scale)', () => {
  it('reproduces the shape: hedging at the p95 cuts p99.9 more than 10× for about 5 % more leaf requests', async () => {
    // 2 000 requests per policy keep the test short; the CLI default is 20 000 (same shape).
    const report = await runTailLatency({ seed: 1, requests: 2000 });
    expect(report.scenario).toBe('tail-latency');
    expect(report.results.map((r) => r.policy)).toEqual([...tailLatencyPolicies]);
    const by = Object.fromEntries(report.results.map((r) => [r.policy, r]));
    console.log(
      report.results
        .map(
          (r) =>
            `${r.policy}: p50 ${r.p50} p99 ${r.p99} p99.9 ${r.p999} ms, extra load ${r.extraLoad}`,
        )
        .join('\n'),
    );
    const none = by.none!;
    const p95 = by['hedge-p95']!;
    expect(none.requests).toBe(2000);
    expect(none.extraLoad).toBe(0);
    // About 10 % of requests touch a slow leaf (200–2000 ms): the p99.9 is deep in it.
    expect(none.p999!).toBeGreaterThanOrEqual(1000);
    expect(p95.p999!).toBeLessThanOrEqual(none.p999! / 10);
    expect(p95.extraLoad!).toBeGreaterThan(0.04);
    expect(p95.extraLoad!).toBeLessThanOrEqual(0.06);
    // The learned delay is near the leaves' p95 (lognormal median 5, sigma 0.5: 11.4 ms).
    expect(p95.delay!).toBeGreaterThan(10);
    expect(p95.delay!).toBeLessThan(13);
    // A fixed 10 ms hedge is below the p95: it hedges P(latency > 10 ms) ≈ 8.3 % of leaves.
    expect(by['hedge-10ms']!.extraLoad!).toBeGreaterThan(0.07);
    expect(by['hedge-10ms']!.extraLoad!).toBeLessThan(0.1);
    // The 5 % ratio budget holds extra load at its ratio.
    expect(by['hedge-p95-budget']!.extraLoad!).toBeLessThanOrEqual(0.0505);
    // Two hedges: the third attempt is rare (both first attempts slower than the p95).
    expect(by['hedge-2']!.extraLoad!).toBeLessThan(0.06);
    expect(by['hedge-2']!.p999!).toBeLessThanOrEqual(none.p999! / 10);
  }, 120_000);

  it('is deterministic for a seed', async () => {
    const run = () => runTailLatency({ seed: 7, requests: 300, policies: ['none', 'hedge-p95'] });
    expect(await run()).toEqual(await run());
  }, 60_000);

  it('validates its options', () => {
    expect(() => planTailLatency({ runs: 0 })).toThrow(RangeError);
    expect(() => planTailLatency({ seed: -1 })).toThrow(RangeError);
  });
});
