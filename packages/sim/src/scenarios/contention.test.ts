import { captureStreams } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { simulate } from '../engine.js';
import {
  type ContentionReport,
  type ContentionStrategy,
  planContention,
  runContention,
} from './contention.js';

// Brooker, "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015), on the model of
// aws-samples/aws-arch-backoff-simulator: the published conclusions at 40–160 clients. Fewer runs
// than the CLI's 100 to keep the test fast; the margins below hold at 20 runs for any seed we tried.
describe('contention (Brooker OCC model)', async () => {
  const clients = [40, 80, 120, 160];
  const { results } = await runContention({ clients, runs: 20, seed: 7 });
  const at = (c: number, s: ContentionStrategy) =>
    results.find((r) => r.clients === c && r.strategy === s)!;
  const sum = (s: ContentionStrategy, key: 'calls' | 'time') =>
    clients.reduce((total, c) => total + at(c, s)[key], 0);

  it('no-jitter exponential backoff is by far the slowest', () => {
    for (const c of clients) {
      for (const s of ['none', 'full', 'equal', 'decorrelated'] as const) {
        expect(at(c, 'exponential').time).toBeGreaterThan(4 * at(c, s).time);
      }
    }
  });

  it('equal jitter does more work than full jitter (and takes longer)', () => {
    expect(sum('equal', 'calls')).toBeGreaterThan(sum('full', 'calls'));
    expect(sum('equal', 'time')).toBeGreaterThan(1.15 * sum('full', 'time'));
  });

  it('full and decorrelated jitter are close', () => {
    const ratio = sum('decorrelated', 'time') / sum('full', 'time');
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.2);
    // Full jitter does less work, decorrelated finishes slightly sooner (Brooker's trade-off).
    expect(sum('full', 'calls')).toBeLessThan(sum('decorrelated', 'calls'));
  });

  it('jitter of any kind cuts work sharply versus none and versus plain exponential', () => {
    for (const s of ['full', 'equal', 'decorrelated'] as const) {
      expect(sum(s, 'calls')).toBeLessThan(0.5 * sum('none', 'calls'));
      expect(sum(s, 'calls')).toBeLessThan(0.7 * sum('exponential', 'calls'));
    }
  });

  it('with no backoff every client competes every round: ~N²/2 writes', () => {
    for (const c of clients) {
      expect(at(c, 'none').calls).toBeGreaterThan(0.2 * c * c);
      expect(at(c, 'none').calls).toBeLessThan(0.5 * c * c);
    }
  });
});

// The plan ends a settle after fewer quiet generations than the engine's default (see
// planContention: one more than this model's longest clock-free reaction chain needs). Pinned
// against the default 8 for the whole sweep at a few seeds, at concurrency 1 (no other run's
// activity lengthens a settle) and with the plan's own options; one generation fewer still gives
// the same results (the margin), and engine.test.ts shows that two fewer do not.
describe('contention settle', () => {
  it("the plan's quiet generations give the results of the engine's default", async () => {
    for (const seed of [1, 7, 42]) {
      const plan = planContention({ runs: 1, seed });
      const quiet = plan.simulate?.quiet ?? 8;
      expect(quiet).toBeLessThan(8);
      const conservative = await simulate(plan.specs, { concurrency: 1, quiet: 8 });
      expect(await simulate(plan.specs, plan.simulate)).toEqual(conservative);
      expect(await simulate(plan.specs, { concurrency: 1, quiet })).toEqual(conservative);
      expect(await simulate(plan.specs, { concurrency: 1, quiet: quiet - 1 })).toEqual(
        conservative,
      );
    }
  }, 60_000);
});

describe('faultline-sim contention --json', () => {
  it('prints exactly { scenario, seed, runs, results: [{ clients, strategy, calls, time }] }', async () => {
    const { io, out } = captureStreams();
    expect(await main(['contention', '--json', '--runs', '1'], io)).toBe(0);
    const report = JSON.parse(out.join('')) as ContentionReport;
    // Every --json output carries seed and runs (spec "Round 2").
    expect(Object.keys(report)).toEqual(['scenario', 'seed', 'runs', 'results']);
    expect(report.scenario).toBe('contention');
    expect(report.seed).toBe(1);
    expect(report.runs).toBe(1);
    expect(report.results).toHaveLength(19 * 5);
    expect(new Set(report.results.map((r) => r.clients))).toEqual(
      new Set(Array.from({ length: 19 }, (_, i) => 10 * (i + 1))),
    );
    expect(new Set(report.results.map((r) => r.strategy))).toEqual(
      new Set(['none', 'exponential', 'full', 'equal', 'decorrelated']),
    );
    for (const r of report.results) {
      expect(Object.keys(r)).toEqual(['clients', 'strategy', 'calls', 'time']);
      expect(r.calls).toBeGreaterThanOrEqual(r.clients);
      expect(r.time).toBeGreaterThan(0);
    }
  }, 60_000);
});
