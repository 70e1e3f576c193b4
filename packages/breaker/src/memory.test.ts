/**
 * Memory and leak checks in a child process (`node --expose-gc`) against the built `dist/`
 * (built by the Vitest global setup).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type NodeRun, promptExitProblem, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface ChildResult {
  lines: Array<Record<string, unknown>>;
  run: NodeRun;
  code: number | null;
  stderr: string;
}

async function runChild(script: string, timeout = 120_000): Promise<ChildResult> {
  const run = await runNode({
    script,
    // --no-flush-bytecode: V8 drops the bytecode of functions that have not run for a few GCs
    // (startup and module-loading code), which took 145-160 KB off a measured million in some
    // runs: a negative swing that could hide a leak from the minimum in retainedPerMillion.
    nodeArgs: ['--expose-gc', '--no-flush-bytecode', '--unhandled-rejections=strict'],
    timeout,
  });
  const lines = run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { lines, run, code: run.code, stderr: run.stderr };
}

const preamble = `
import * as breaker from ${JSON.stringify(pathToFileURL(dist).href)};
const { circuitBreaker, consecutiveFailures, failureRate, adaptiveThrottle } = breaker;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const heap = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed; };
const make = {
  consecutive: () => circuitBreaker({ trip: consecutiveFailures(5) }),
  timeWindow: () => circuitBreaker({ trip: failureRate({ window: 30_000, buckets: 10 }) }),
  timeWindowSlow: () => circuitBreaker({
    trip: failureRate({ window: 30_000, slowCall: { duration: 1_000, threshold: 1 } }),
  }),
  countWindow: () => circuitBreaker({ trip: failureRate({ window: { calls: 100 } }) }),
  throttle: () => adaptiveThrottle(),
};
const ok = async () => {};
const failing = async () => { throw new Error('x'); };
// One call in 100 fails: the windows see failures, nothing trips.
const call = (policy, i, signal) =>
  i % 100 === 0 ? policy.execute(failing, signal).catch(() => {}) : policy.execute(ok, signal);
/**
 * The heap retained by a million calls: the least of ROUNDS consecutive millions, each read
 * after GC. A leak retains its bytes in every million, so the least of them still carries it;
 * a one-off swing (below) shows in one million only.
 *
 * Why not one reading: in scratch runs on 2 cores at load 4-10, one million moved by up to
 * +214 KB and -250 KB without any leak, all in old space (code space moved by at most 6.6 KB
 * but once, so not tiering). The big negative swings came in the first GC-bracketed million of
 * the process, whatever the warm-up (1.2 million calls or 8 GCs a reading did not help), and
 * would have hidden a leak from the minimum; from the second million on the readings repeat to
 * the byte, with rare positive swings (+184 KB once). So a settling million, read like the
 * others but not counted, comes before the counted ones.
 */
const ROUNDS = 3;
const retainedPerMillion = async (policy, callOf = call) => {
  // Warm-up: lazily built structures and JIT code are not retention.
  for (let i = 0; i < 200_000; i++) await callOf(policy, i);
  const rounds = [];
  for (let r = 0; r <= ROUNDS; r++) {
    const before = heap();
    for (let i = 0; i < 1_000_000; i++) await callOf(policy, i);
    const retained = heap() - before;
    if (r > 0) rounds.push(retained); // round 0 settles (see above)
  }
  return { retainedBytes: Math.min(...rounds), rounds };
};
`;

describe('memory (child process against dist/)', () => {
  it('1e6 calls through each breaker and the throttle retain < 64 KB after GC', async () => {
    // One million per reading used to be the whole test, and it failed now and then under load
    // (timeWindowSlow 111 312 B); see retainedPerMillion for what the swings were. In 21 scratch
    // runs under load, the least of the two millions after the settling one stayed under 7.5 KB
    // for every policy; the next test shows the same measure still sees a small leak.
    const script = `${preamble}
for (const name of Object.keys(make)) {
  out({ name, ...(await retainedPerMillion(make[name]())) });
}
`;
    const result = await runChild(script);
    expect(result.stderr).toBe('');
    const measured = result.lines.filter((line) => typeof line.name === 'string');
    expect(measured.map((line) => line.name)).toEqual([
      'consecutive',
      'timeWindow',
      'timeWindowSlow',
      'countWindow',
      'throttle',
    ]);
    for (const line of measured) {
      expect(
        line.retainedBytes as number,
        `${String(line.name)}, rounds ${JSON.stringify(line.rounds)}`,
      ).toBeLessThan(64 * 1024);
    }
  }, 180_000);

  it('the measurement sees a leak of one closure per 500 calls (~190 KB a million)', async () => {
    // The minimum over rounds must not hide a real leak: one that grows every million.
    const script = `${preamble}
const leaked = [];
const leaky = (policy, i) => {
  if (i % 500 === 0) leaked.push(() => i);
  return call(policy, i);
};
out(await retainedPerMillion(make.consecutive(), leaky));
`;
    const result = await runChild(script);
    expect(result.stderr).toBe('');
    const { retainedBytes, rounds } = result.lines[0] as {
      retainedBytes: number;
      rounds: number[];
    };
    expect(rounds).toHaveLength(3);
    expect(retainedBytes).toBeGreaterThan(64 * 1024);
  }, 180_000);

  it('leak test: 100 000 calls with a long-lived caller signal leave no listeners, < 1 MB, prompt exit', async () => {
    const script = `${preamble}
import { getEventListeners } from 'node:events';
const controller = new AbortController();
const signal = controller.signal;
const before = heap();
for (const name of Object.keys(make)) {
  const policy = make[name]();
  // Half the calls read ctx.signal, as fetch would.
  for (let i = 0; i < 100_000; i++) {
    if (i % 2 === 0) await call(policy, i, signal);
    else await policy.execute((ctx) => { void ctx.signal; }, signal);
  }
}
out({ listeners: getEventListeners(signal, 'abort').length, growthBytes: heap() - before });
lastCall();
`;
    const result = await runChild(script);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const stats = result.lines[0]!;
    expect(stats.listeners).toBe(0);
    expect(stats.growthBytes as number).toBeLessThan(1024 * 1024);
    // No timer or handle keeps the process alive after its last call.
    expect(promptExitProblem(result.run)).toBeUndefined();
  }, 180_000);
});
