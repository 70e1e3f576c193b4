import { promptExitProblem, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// The calls of a timeout policy share one platform timer (core's TimerQueue): it holds the
// process open while a call is in flight, and never after.
describe('timeout: the shared timer and the process', () => {
  // The child imports the built dist/ (built by the Vitest global setup).
  const dist = new URL('../dist/index.js', import.meta.url);

  it('a pending call keeps the process alive until its timeout fires', async () => {
    const run = await runNode({
      script: `
const { timeout } = await import(${JSON.stringify(dist.href)});
const started = performance.now();
const error = await timeout(150).execute(() => new Promise(() => {})).catch((e) => e);
console.log(error.name, Math.round(performance.now() - started) >= 150);
`,
      timeout: 10_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('TimeoutError true');
  });

  it('after the last call no ref’d timer is left once the loop turns, and the process exits promptly', async () => {
    const run = await runNode({
      script: `
const { timeout } = await import(${JSON.stringify(dist.href)});
const policies = [timeout(60_000), timeout(60_000, { strategy: 'cooperative' })];
for (let i = 0; i < 1000; i++) await policies[i % 2].execute(async () => i);
await new Promise((resolve) => setImmediate(resolve));
console.log(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length);
lastCall();
`,
      timeout: 10_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('0');
    expect(promptExitProblem(run)).toBeUndefined();
  });
});
