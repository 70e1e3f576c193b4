/**
 * Preloaded (`node --import`) into every child `runNode` starts. It gives the child script a
 * global `lastCall()`: call it right after the last call into the library under test. When the
 * event loop then runs empty (`beforeExit`), the child reports on file descriptor 3, a pipe
 * `runNode` reads, how long that took and which ref'd resources (timers, sockets, …) were still
 * alive at the last call. stdout and stderr stay the script's own.
 */
import { writeSync } from 'node:fs';

/** What the child reports on fd 3 (see `NodeRun.exit`). */
export interface ChildExitReport {
  /** Ms from `lastCall()` to the event loop running empty. */
  readonly drainMs: number;
  /** `process.getActiveResourcesInfo()` at `lastCall()`: ref'd resources only. */
  readonly activeAtLastCall: readonly string[];
}

/** The file descriptor of the report pipe (the fourth of `runNode`'s `stdio`). */
export const REPORT_FD = 3;

let lastCallAt: number | undefined;
let activeAtLastCall: string[] = [];

function lastCall(): void {
  lastCallAt = performance.now();
  activeAtLastCall = process.getActiveResourcesInfo();
}

(globalThis as { lastCall?: () => void }).lastCall = lastCall;

// 'beforeExit' fires when nothing ref'd is left (not after process.exit() or a crash, which then
// report nothing: the test sees a child that did not drain on its own).
process.once('beforeExit', () => {
  if (lastCallAt === undefined) return;
  const report: ChildExitReport = { drainMs: performance.now() - lastCallAt, activeAtLastCall };
  try {
    writeSync(REPORT_FD, `${JSON.stringify(report)}\n`);
  } catch {
    // Run without runNode (no fd 3): nothing to report to.
  }
});
