import { leakCheck } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built packages (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);
const core = new URL('../../core/dist/index.js', import.meta.url);

const setup = `
const { chaosBehavior, chaosFault, chaosLatency, chaosOutcome } = await import(${JSON.stringify(dist.href)});
const { seededRandom } = await import(${JSON.stringify(core.href)});
const random = seededRandom(1);
const policies = [
  chaosFault({ fault: new Error('injected'), injectionRate: 0.1, random }),
  chaosLatency({ latency: 1, injectionRate: 0.002, random }), // a real 1 ms wait, now and then
  chaosOutcome({ outcome: () => 0, injectionRate: 0.1, random }),
  chaosBehavior({ behavior: () => {}, injectionRate: 0.1, random }),
  chaosFault({ fault: new Error('never'), enabled: false }),
];
let injected = 0;
policies[0].onFault(() => injected++);
policies[1].onLatency(() => injected++);
policies[2].onOutcome(() => injected++);
policies[3].onBehavior(() => injected++);
const ok = async () => 1;
const reads = async (ctx) => ctx.signal.aborted;
async function run(n) {
  for (let i = 0; i < n; i++) {
    const policy = policies[i % policies.length];
    await policy.execute(i % 2 === 0 ? ok : reads, caller.signal).catch(() => {});
  }
}
`;

describe('leaks', () => {
  it('100 000 calls through the chaos policies with a long-lived caller signal: no listener, no timer, < 1 MB heap growth', async () => {
    const result = await leakCheck<{ injected: number }>({
      label: 'chaos',
      setup,
      warmup: 10_000,
      reset: 'injected = 0;',
      report: '{ injected }',
      timeout: 150_000,
    });
    // 20 000 calls per policy: about 2 000 each for the three at 0.1, 40 waits at 0.002.
    expect(result.injected).toBeGreaterThan(5_500);
    expect(result.injected).toBeLessThan(6_500);
  }, 160_000);
});
