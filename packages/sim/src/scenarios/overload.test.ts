import { describe, expect, it } from 'vitest';
import { type OverloadReport, overloadModel, runOverload } from './overload.js';

// The full-size model (the targets are about it), one run, the policies the targets name.
describe('overload', async () => {
  const report: OverloadReport = await runOverload({
    runs: 1,
    policies: ['none', 'gradient2-tuned', 'vegas-tuned', 'gradient2-server'],
  });
  const byName = (name: string) => report.results.find((r) => r.policy === name)!;

  it('without a limit the brownout backlog turns every request into a timeout', () => {
    const none = byName('none');
    // Over the whole brownout the first ~1.7 s still succeed while the queue builds from empty
    // (300/s of backlog, 1 s timeout at 500/s of service); from then on nothing does.
    expect(none.goodputDuring!).toBeLessThan(0.15 * 500);
    expect(none.timeoutsDuring!).toBeGreaterThan(0.9);
    const steady = none.series.filter((b) => b.t >= 22_000 && b.t < 40_000);
    const offered = overloadModel.rate * steady.length;
    const successes = steady.reduce((sum, b) => sum + b.goodput!, 0);
    const timeouts = steady.reduce((sum, b) => sum + b.timeouts!, 0);
    expect(successes / steady.length).toBeLessThan(0.05 * 500);
    expect(timeouts / offered).toBeGreaterThan(0.99);
    expect(none.timeToRecover).toBeNull(); // the backlog is not drained by 60 s
  });

  it('the tuned adaptive limits keep ≥ 90 % of 500/s goodput, no timeouts, p99 ≤ 2.5× before, ≤ 6 % rejected before', () => {
    for (const name of ['gradient2-tuned', 'vegas-tuned', 'gradient2-server']) {
      const result = byName(name);
      expect(result.goodputDuring!, name).toBeGreaterThanOrEqual(450);
      expect(result.timeoutsDuring, name).toBe(0);
      expect(result.p99During! / result.p99Before!, name).toBeLessThanOrEqual(2.5);
      expect(result.rejectedBefore!, name).toBeLessThanOrEqual(0.06);
    }
  });

  it('reports the limit over time: high while healthy, down to about workers + a short queue in the brownout', () => {
    const gradient = byName('gradient2-tuned');
    expect(gradient.limitBefore!).toBeGreaterThan(25);
    expect(gradient.limitDuring!).toBeLessThan(25);
    expect(gradient.series.every((b) => b.limit !== null)).toBe(true);
    expect(byName('none').series.every((b) => b.limit === null)).toBe(true);
  });
});
