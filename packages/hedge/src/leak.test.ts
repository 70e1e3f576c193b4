import { leakCheck, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Runs against the built packages (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);
const retryDist = new URL('../../retry/dist/index.js', import.meta.url);

const setup = `
const { hedge, learnedDelay } = await import(${JSON.stringify(dist.href)});
const { ratioBudget } = await import(${JSON.stringify(retryDist.href)});
const latency = hedge(); // 2 s delay: the first attempt always wins in time
const parallel = hedge({ delay: 0, maxHedgedAttempts: 2 });
const fallback = hedge({ delay: -1 });
const budgeted = hedge({ delay: 0, budget: ratioBudget({ ratio: 0.5, minRetriesPerSecond: 100 }) });
const learned = hedge({ delay: learnedDelay({ initial: 5 }) });
const racing = hedge({ delay: 1 }); // a real 1 ms hedge that wins
let hedges = 0;
let aborts = 0;
for (const p of [latency, parallel, fallback, budgeted, learned, racing]) p.onHedge(() => { hedges++; });
const ok = async () => 1;
const reads = async (ctx) => ctx.signal.aborted;
// Attempt 1 answers; the others wait for their abort (the losers).
const first = (ctx) => ctx.attempt === 1 ? Promise.resolve(1) : new Promise((resolve) => {
  ctx.signal.addEventListener('abort', () => { aborts++; resolve(0); }, { once: true });
});
// Attempt 1 fails (handled); attempt 2 answers.
const flaky = async (ctx) => { if (ctx.attempt === 1) throw new Error('transient'); return 2; };
// Attempt 1 hangs until aborted; the 1 ms hedge answers.
const slow = (ctx) => ctx.attempt === 1
  ? new Promise((resolve) => ctx.signal.addEventListener('abort', () => { aborts++; resolve(0); }, { once: true }))
  : Promise.resolve(2);
async function run(n) {
  for (let i = 0; i < n; i++) {
    const signal = caller.signal;
    switch (i % 6) {
      case 0: await latency.execute(i % 2 === 0 ? ok : reads, signal); break;
      case 1: await parallel.execute(first, signal); break;
      case 2: await fallback.execute(flaky, signal); break;
      case 3: await budgeted.execute(first, signal); break;
      case 4: await learned.execute(reads, signal); break;
      case 5: if (i % 1200 === 5) await racing.execute(slow, signal); else await racing.execute(ok, signal); break;
    }
  }
}
`;

describe('leaks', () => {
  it('100 000 hedged calls with a long-lived caller signal: no listener, no timer, < 1 MB heap growth, prompt exit', async () => {
    // leakCheck also asserts no timer left (the deterministic half) and a prompt exit.
    const result = await leakCheck<{ hedges: number; aborts: number }>({
      label: 'hedge',
      setup,
      warmup: 12_000,
      reset: 'hedges = 0; aborts = 0;',
      // Let the losers' late settlements and the shared hedge timers run out.
      settle: 'await new Promise((resolve) => setTimeout(resolve, 20));',
      report: '{ hedges, aborts }',
      timeout: 150_000,
    });
    // Per 6 calls: parallel 2 hedges, fallback 1, budgeted 0.5 (its ratio 0.5 grants one
    // hedge per two calls), and the racing policy's for 1 call in 1 200.
    const sixes = 100_000 / 6;
    const racing = Math.round(100_000 / 1200);
    expect(Math.abs(result.hedges - (sixes * 3.5 + racing))).toBeLessThan(10);
    // Every loser saw its abort: all those hedges but fallback's (its first attempt failed).
    expect(Math.abs(result.aborts - (sixes * 2.5 + racing))).toBeLessThan(10);
  }, 180_000);

  it('a hedge due for a first attempt that waits on nothing else keeps the process alive until it fires', async () => {
    const program = `
      const { hedge } = await import(${JSON.stringify(dist.href)});
      const policy = hedge({ delay: 50 });
      // Attempt 1 waits for its abort only (no socket, no timer): without a ref'd hedge timer
      // Node would exit here with an unsettled top-level await (code 13).
      const value = await policy.execute((ctx) => ctx.attempt === 1
        ? new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted')))
        : 'hedge');
      process.stdout.write(value + '\\n');
    `;
    const { stdout, code } = await runNode({ script: program, timeout: 30_000 });
    expect(code).toBe(0);
    expect(stdout).toBe('hedge\n');
  }, 60_000);
});
