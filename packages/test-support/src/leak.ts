import { expect } from 'vitest';
import { type NodeRun, promptExitProblem, runNode } from './run-node.js';

/**
 * The policy checklist's 100 000-call leak test, one harness for every package: a child Node
 * (`--expose-gc`) warms up, measures the heap around the calls, and reports; the test asserts
 * what every leak test asserts and then its own counts.
 */

export interface LeakCheckOptions {
  /** Says whose test it is in the log line (`'chaos'` → "chaos leak test: …"). */
  readonly label: string;
  /**
   * ES module source that sets up the policies and defines `async function run(n)`, making `n`
   * calls. It can use `caller`, a long-lived AbortController (like a server's shutdown signal)
   * whose abort listeners are counted at the end; import workspace packages with
   * `await import(<dist URL>)`.
   */
  readonly setup: string;
  /** Calls before the measurement: JIT code and lazily built structures are not growth. */
  readonly warmup: number;
  /** Calls measured (default 100 000). */
  readonly calls?: number;
  /** Statements run after the warm-up, before the heap is measured (reset counters). */
  readonly reset?: string;
  /** Statements run after the measured calls, before the final GC (let late work settle). */
  readonly settle?: string;
  /** An object expression of the child's own figures to report (`'{ retries }'`). */
  readonly report?: string;
  /** Kill the child after this many ms (default 110 000; keep it below the test's timeout). */
  readonly timeout?: number;
  /** The most the heap may grow over the measured calls, after GC (default 1 MiB). */
  readonly maxGrowth?: number;
}

/** What the child reported: `growth` (bytes), `listeners` on `caller`, ref'd `timers`, and its own. */
export interface LeakReport {
  readonly growth: number;
  readonly listeners: number;
  readonly timers: number;
  readonly run: NodeRun;
}

/** The child program `leakCheck` runs (exported for tests of the harness). */
export function leakScript(options: LeakCheckOptions): string {
  return `
import { getEventListeners } from 'node:events';
const caller = new AbortController();
${options.setup}
await run(${options.warmup});
globalThis.gc(); globalThis.gc();
${options.reset ?? ''}
const before = process.memoryUsage().heapUsed;
await run(${options.calls ?? 100_000});
${options.settle ?? ''}
globalThis.gc(); globalThis.gc();
const after = process.memoryUsage().heapUsed;
const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
process.stdout.write(JSON.stringify({
  ...(${options.report ?? '{}'}),
  growth: after - before,
  listeners: getEventListeners(caller.signal, 'abort').length,
  timers,
}) + '\\n');
lastCall();
`;
}

/**
 * Runs the leak child and asserts, with Vitest's `expect`: no stderr, exit code 0, no abort
 * listener left on `caller`, no `Timeout` left (nothing that could keep the process alive), heap
 * growth below `maxGrowth`, and a prompt exit after the last call (`promptExitProblem`). Returns
 * the report (with the child's own figures) for the test's own assertions, and logs one line.
 */
export async function leakCheck<Extra extends object = object>(
  options: LeakCheckOptions,
): Promise<LeakReport & Extra> {
  const run = await runNode({
    script: leakScript(options),
    nodeArgs: ['--expose-gc'],
    timeout: options.timeout ?? 110_000,
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as Omit<LeakReport, 'run'> & Extra;
  expect(result.listeners).toBe(0);
  expect(result.timers).toBe(0);
  expect(result.growth).toBeLessThan(options.maxGrowth ?? 1024 * 1024);
  expect(promptExitProblem(run)).toBeUndefined();
  const own = Object.entries(result)
    .filter(([key]) => key !== 'growth' && key !== 'listeners' && key !== 'timers')
    .map(([key, value]) => `, ${key} ${JSON.stringify(value)}`)
    .join('');
  console.log(
    `${options.label} leak test: heap growth ${result.growth} B${own}, exit ${run.exit!.drainMs.toFixed(0)} ms after the last call`,
  );
  return { ...result, run };
}
