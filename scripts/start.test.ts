import { fileURLToPath } from 'node:url';
import { startNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

/** Milliseconds from spawning `file` until its stdout has a line matching `pattern`. */
async function firstLine(
  options: { file: string } | { script: string },
  pattern: RegExp,
): Promise<{ ms: number; line: string }> {
  const child = startNode(options);
  const started = performance.now();
  try {
    const match = await child.waitFor(pattern, 10_000);
    return { ms: performance.now() - started, line: match[0] };
  } finally {
    await child.stop();
  }
}

// `pnpm start` runs `node scripts/start.mjs`: before anything slow (the build, the simulation) it
// must say what it is doing, also when stdout is a pipe (a CI log, `| tee`). Measured against a
// bare Node process started the same way, so that a loaded machine's slow process start-up (all
// of which a user also waits for) does not make the check flaky: start.mjs may add little to it.
describe('pnpm start', () => {
  it('says what it is doing within a second, with stdout a pipe', async () => {
    const bare = await firstLine({ script: 'console.log("ready")' }, /^ready$/m);
    const start = await firstLine(
      { file: fileURLToPath(new URL('./start.mjs', import.meta.url)) },
      /^faultline: .+$/m,
    );
    expect(start.line).toMatch(/^faultline: building the packages/);
    // Within a second on an idle machine (Node starts in ~50 ms): no more than 300 ms on top.
    expect(start.ms - bare.ms).toBeLessThan(300);
  });
});
