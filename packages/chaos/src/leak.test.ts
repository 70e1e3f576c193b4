import { promptExitProblem, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built packages (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);
const core = new URL('../../core/dist/index.js', import.meta.url);

const child = `
import { getEventListeners } from 'node:events';
const { chaosBehavior, chaosFault, chaosLatency, chaosOutcome } = await import(${JSON.stringify(dist.href)});
const { seededRandom } = await import(${JSON.stringify(core.href)});
const caller = new AbortController(); // long-lived, like a server's shutdown signal
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
await run(10_000);
globalThis.gc(); globalThis.gc();
injected = 0;
const before = process.memoryUsage().heapUsed;
await run(100_000);
globalThis.gc(); globalThis.gc();
const after = process.memoryUsage().heapUsed;
const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
process.stdout.write(JSON.stringify({
  growth: after - before,
  listeners: getEventListeners(caller.signal, 'abort').length,
  timers,
  injected,
}) + '\\n');
lastCall();
`;

describe('leaks', () => {
  it('100 000 calls through the chaos policies with a long-lived caller signal: no listener, no timer, < 1 MB heap growth', async () => {
    const run = await runNode({ script: child, nodeArgs: ['--expose-gc'], timeout: 150_000 });
    const { stdout, stderr, code } = run;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      growth: number;
      listeners: number;
      timers: number;
      injected: number;
    };
    // 20 000 calls per policy: about 2 000 each for the three at 0.1, 40 waits at 0.002.
    expect(result.injected).toBeGreaterThan(5_500);
    expect(result.injected).toBeLessThan(6_500);
    expect(result.listeners).toBe(0);
    expect(result.timers).toBe(0);
    expect(result.growth).toBeLessThan(1024 * 1024);
    expect(promptExitProblem(run)).toBeUndefined();
    console.log(
      `chaos leak test: heap growth ${result.growth} B, ${result.injected} injections, exit ${run.exit!.drainMs.toFixed(0)} ms after the last call`,
    );
  }, 120_000);
});
