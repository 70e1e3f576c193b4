import { describe, expect, it } from 'vitest';
import { leakCheck, leakScript } from './leak.js';

describe('leakCheck', () => {
  it('runs setup, warm-up, reset, measured calls and settle in order, and reports the figures', async () => {
    const result = await leakCheck<{ calls: number; steps: string[] }>({
      label: 'harness',
      setup: `
let calls = 0;
const steps = [];
async function run(n) { steps.push('run ' + n); for (let i = 0; i < n; i++) { calls++; await null; } }
`,
      warmup: 10,
      calls: 1_000,
      reset: `calls = 0; steps.push('reset');`,
      settle: `steps.push('settle');`,
      report: '{ calls, steps }',
      timeout: 30_000,
    });
    expect(result.calls).toBe(1_000);
    expect(result.steps).toEqual(['run 10', 'reset', 'run 1000', 'settle']);
    expect(result.run.exit).toBeDefined();
  }, 60_000);

  it('reports its own figures without letting them replace the measured ones', () => {
    const script = leakScript({ label: 'x', setup: '', warmup: 1, report: '{ timers: -1 }' });
    expect(script.indexOf('...({ timers: -1 })')).toBeLessThan(script.indexOf('  timers,'));
  });
});
