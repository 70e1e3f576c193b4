import { describe, expect, it } from 'vitest';
import { simulate } from './engine.js';
import { planContention } from './scenarios/contention.js';
import { planLatencyShift } from './scenarios/latency-shift.js';
import type { ScenarioPlan } from './scenarios/options.js';
import { planRetryStorm } from './scenarios/retry-storm.js';

// Concurrent simulate() calls in one process (a test runner, a server answering several report
// requests, `Promise.all` over scenarios) must not see each other: each call settles its own runs
// and decides "quiet" from its own clocks only. Reference: the same plans simulated one after
// another.
const report = async (plan: ScenarioPlan<unknown, unknown>): Promise<string> =>
  JSON.stringify(plan.aggregate(await simulate(plan.specs)));

describe('concurrent simulate() calls', () => {
  it('two different scenarios at once give the sequential results', async () => {
    const storm = () => planRetryStorm({ runs: 1, concurrency: 2 });
    const contention = () => planContention({ runs: 2, clients: [20, 60] });
    const sequential = [await report(storm()), await report(contention())];
    const together = await Promise.all([report(storm()), report(contention())]);
    // Compared as booleans: a mismatch would otherwise print two reports of ~20 kB each.
    expect(together.map((r, i) => r === sequential[i])).toEqual([true, true]);
  }, 60_000);

  it('eight latency-shift runs at once all match the sequential reference', async () => {
    const plan = () => planLatencyShift({ runs: 1, seed: 3 });
    const reference = await report(plan());
    const parallel = await Promise.all(Array.from({ length: 8 }, () => report(plan())));
    expect(parallel.map((r) => r === reference)).toEqual(new Array(8).fill(true));
  }, 120_000);
});
