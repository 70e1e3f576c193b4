/**
 * Memory and leak checks in a child process (`node --expose-gc`) against the built `dist/`
 * (the root test command builds first; alone: `npx tsc -b packages/breaker`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface ChildResult {
  lines: Array<Record<string, unknown>>;
  /** Ms between the child's "done" line and its exit. */
  exitDelay: number;
  code: number | null;
  stderr: string;
}

function runChild(script: string, timeoutMs = 120_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--input-type=module', '--unhandled-rejections=strict', '-e', script],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: Array<Record<string, unknown>> = [];
    let buffer = '';
    let stderr = '';
    let doneAt: number | undefined;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`child did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
        buffer = buffer.slice(newline + 1);
        if (line.done === true) doneAt = performance.now();
        lines.push(line);
        newline = buffer.indexOf('\n');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      const exitDelay = doneAt === undefined ? Number.NaN : performance.now() - doneAt;
      resolve({ lines, exitDelay, code, stderr });
    });
  });
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
`;

describe.skipIf(!existsSync(dist))('memory (child process against dist/)', () => {
  it('1e6 calls through each breaker and the throttle retain < 64 KB after GC', async () => {
    const script = `${preamble}
for (const name of Object.keys(make)) {
  const policy = make[name]();
  for (let i = 0; i < 20_000; i++) await call(policy, i);
  const before = heap();
  for (let i = 0; i < 1_000_000; i++) await call(policy, i);
  out({ name, retainedBytes: heap() - before });
}
out({ done: true });
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
      expect(line.retainedBytes as number, String(line.name)).toBeLessThan(64 * 1024);
    }
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
out({ done: true });
`;
    const result = await runChild(script);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const stats = result.lines[0]!;
    expect(stats.listeners).toBe(0);
    expect(stats.growthBytes as number).toBeLessThan(1024 * 1024);
    // No timer or handle keeps the process alive after its last call.
    expect(result.exitDelay).toBeLessThan(200);
  }, 180_000);
});

it.runIf(!existsSync(dist))(
  'memory tests need the built dist/ (run `npx tsc -b packages/breaker`)',
  () => {
    throw new Error(`missing ${dist}: build first (the root test command does)`);
  },
);
