/**
 * Tests against the built package in child processes: it exits promptly after using every
 * timer-owning API (nothing ref'd is left behind), and `require()` works from CommonJS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promptExitProblem, runNode } from '@faultline/test-support';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const distEntry = join(packageDir, 'dist', 'index.js');
const temporary: string[] = [];

afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

describe('built package in a child process', () => {
  it('exits promptly after sleep, Deadline.signal(), watchPauses and watchClockJumps', async () => {
    const result = await runNode({
      script: `import { Deadline, MAX_TIMER_DELAY, sleep, systemClock, watchClockJumps, watchPauses } from ${JSON.stringify(pathToFileURL(distEntry).href)};
await sleep(2);                                            // normal completion
await sleep(60_000, AbortSignal.abort('x')).catch(() => {}); // already aborted
const controller = new AbortController();
const pending = sleep(60_000, controller.signal);          // aborted mid-sleep
await sleep(1);
controller.abort('stop');
await pending.catch(() => {});
const short = Deadline.after(5);                           // a deadline aborts a long sleep
await sleep(60_000, short.signal()).catch(() => {});
Deadline.after(60_000).signal();                           // left armed (unref'd), never disposed
const disposed = Deadline.after(60_000);
disposed.signal();
disposed.dispose();
systemClock.setTimer(MAX_TIMER_DELAY * 2, () => {}, { unref: true }); // chained background timer
watchPauses({ onPause: () => {} });                        // left running
watchClockJumps({ onJump: () => {} });                     // left running
watchPauses({ onPause: () => {} })();                      // stopped
watchClockJumps({ onJump: () => {} })();                   // stopped
lastCall();
`,
    });
    // Left behind: a 60 s deadline, two watchers, a ~50-day timer: all unref'd, so the process
    // exits on its own, promptly.
    expect(result.stderr).toBe('');
    expect(promptExitProblem(result)).toBeUndefined();
    console.info(
      `child exit: event loop drained ${result.exit!.drainMs.toFixed(1)} ms after the last call`,
    );
  });

  it('100 000 sleeps on a long-lived signal and 100 000 Deadline.signal() leave no listener and no heap growth', async () => {
    const result = await runNode({
      nodeArgs: ['--expose-gc'],
      script: `import { getEventListeners, setMaxListeners } from 'node:events';
import { Deadline, sleep } from ${JSON.stringify(pathToFileURL(distEntry).href)};
const caller = new AbortController();
setMaxListeners(0, caller.signal); // 1000 sleeps at a time share it on purpose
async function round() {
  const sleeps = [];
  for (let i = 0; i < 1000; i++) sleeps.push(sleep(0, caller.signal));
  const aborted = new AbortController();
  const cut = sleep(60_000, aborted.signal);
  aborted.abort('x');
  await cut.catch(() => {});
  await Promise.all(sleeps);
  for (let i = 0; i < 1000; i++) {
    const deadline = Deadline.after(60_000);
    deadline.signal();
    deadline.dispose();
  }
}
await round();
globalThis.gc();
const before = process.memoryUsage().heapUsed;
for (let r = 0; r < 100; r++) await round();
globalThis.gc();
const growth = process.memoryUsage().heapUsed - before;
process.stdout.write(JSON.stringify({ growth, listeners: getEventListeners(caller.signal, 'abort').length }));
`,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { growth: number; listeners: number };
    console.info(
      `leak check: heap growth after GC ${(out.growth / 1024).toFixed(1)} KiB over 100 000 sleeps and deadlines`,
    );
    expect(out.listeners).toBe(0);
    expect(out.growth).toBeLessThan(1024 * 1024);
  });

  it('require() works from a CommonJS file (Node >= 20.19)', async () => {
    // Inside the package directory, so that '@faultline/clock' resolves to this package.
    const dir = mkdtempSync(join(packageDir, '.tmp-require-'));
    temporary.push(dir);
    const script = join(dir, 'require.cjs');
    writeFileSync(
      script,
      `const clock = require('@faultline/clock');
const deadline = clock.Deadline.after(10, new clock.VirtualClock());
const hlc = new clock.HybridLogicalClock({ physicalTime: () => 5 });
process.stdout.write(JSON.stringify({
  path: require.resolve('@faultline/clock'),
  exports: Object.keys(clock).sort(),
  remaining: deadline.remaining(),
  grpc: clock.formatGrpcTimeout(1500),
  hlc: hlc.now(),
  offset: clock.estimateOffset({ t1: 1000, t2: 1045, t3: 1047, t4: 1014 }),
}));
`,
    );
    const result = await runNode({ file: script, cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      path: string;
      exports: string[];
      remaining: number;
      grpc: string;
      hlc: unknown;
      offset: unknown;
    };
    expect(out.path).toBe(distEntry);
    expect(out.exports).toEqual(
      expect.arrayContaining([
        'Deadline',
        'HybridLogicalClock',
        'VirtualClock',
        'estimateOffset',
        'systemClock',
        'watchClockJumps',
        'watchPauses',
      ]),
    );
    expect(out.remaining).toBe(10);
    expect(out.grpc).toBe('1500000u');
    expect(out.hlc).toEqual({ l: 5, c: 0 });
    expect(out.offset).toEqual({ offset: 39, delay: 12 });
  });
});
