import { captureStreams } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import type { MetastableJson } from './metastable.js';

// Bronson et al., "Metastable Failures in Distributed Systems" (HotOS 2021): after the trigger
// (a load spike) ends, plain retries sustain the overload; a retry budget or a throttle lets the
// system recover. Run exactly as `faultline-sim metastable --json` (default seed and runs).
describe('faultline-sim metastable --json', async () => {
  const { io, out } = captureStreams();
  const code = await main(['metastable', '--json'], io);
  const report = JSON.parse(out.join('')) as MetastableJson;
  const by = (policy: string) => report.results.find((r) => r.policy === policy)!;

  it('prints { scenario, seed, runs, results: [{ policy, timeToRecover, amplification, goodputAfter }] }', () => {
    expect(code).toBe(0);
    expect(Object.keys(report)).toEqual(['scenario', 'seed', 'runs', 'results']);
    expect(report).toMatchObject({ scenario: 'metastable', seed: 1, runs: 2 });
    expect(report.results.map((r) => r.policy)).toEqual([
      'no-retry',
      'retry-3',
      'retry-3-budget',
      'retry-3-throttle',
    ]);
    for (const r of report.results) {
      expect(Object.keys(r)).toEqual(['policy', 'timeToRecover', 'amplification', 'goodputAfter']);
    }
  });

  it('plain retries never recover (or take at least 5× longer than a budget)', () => {
    const plain = by('retry-3');
    const budget = by('retry-3-budget');
    expect(budget.timeToRecover).not.toBeNull();
    if (plain.timeToRecover !== null) {
      expect(plain.timeToRecover).toBeGreaterThanOrEqual(5 * budget.timeToRecover!);
    }
    // Stuck: the server is busy with attempts whose callers have gone, and they keep coming back.
    expect(plain.goodputAfter!).toBeLessThan(0.1 * budget.goodputAfter!);
    expect(plain.amplification!).toBeGreaterThan(2.5);
  });

  it('a budget recovers and holds the load near one attempt per request', () => {
    const budget = by('retry-3-budget');
    expect(budget.timeToRecover!).toBeLessThan(30_000);
    expect(budget.amplification!).toBeLessThan(1.15);
    expect(budget.goodputAfter!).toBeGreaterThan(190);
  });

  it('without retries, and with an adaptive throttle, the server recovers too', () => {
    expect(by('no-retry').timeToRecover).not.toBeNull();
    expect(by('retry-3-throttle').timeToRecover).not.toBeNull();
  });
});
