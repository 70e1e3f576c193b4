import { describe, expect, it } from 'vitest';
import { EXIT_LIMIT_MS, promptExitProblem, runNode, startNode } from './run-node.js';

describe('runNode', () => {
  it('runs a module script with flags and arguments, and collects its output', async () => {
    const run = await runNode({
      nodeArgs: ['--expose-gc'],
      script: `console.log(typeof globalThis.gc, process.argv.slice(2).join(','), process.env.X);
console.error('to stderr');`,
      args: ['a', 'b'],
      env: { X: 'from-env' },
    });
    expect(run).toMatchObject({
      code: 0,
      signal: null,
      stdout: 'function a,b from-env\n',
      stderr: 'to stderr\n',
    });
  });

  it('a child with nothing ref’d after lastCall() exits promptly', async () => {
    const run = await runNode({
      script: `
const keepsNothing = setTimeout(() => {}, 60_000);
keepsNothing.unref();
await new Promise((resolve) => setTimeout(resolve, 5));
lastCall();`,
    });
    expect(promptExitProblem(run)).toBeUndefined();
    expect(run.exit!.activeAtLastCall).toEqual([]);
    expect(run.exit!.drainMs).toBeLessThan(EXIT_LIMIT_MS);
  });

  it('a ref’d timer left behind shows as a late drain and in activeAtLastCall', async () => {
    const run = await runNode({ script: 'setTimeout(() => {}, 400);\nlastCall();' });
    expect(run.exit!.activeAtLastCall).toContain('Timeout');
    expect(run.exit!.drainMs).toBeGreaterThanOrEqual(390);
    expect(promptExitProblem(run)).toMatch(/ran empty \d+\.\d ms after lastCall\(\).*Timeout/);
  });

  it('process.exit(), a crash, or no lastCall() is not a prompt exit', async () => {
    const forced = await runNode({
      script: 'setTimeout(() => {}, 60_000);\nlastCall();\nprocess.exit(0);',
    });
    expect(forced.code).toBe(0);
    expect(promptExitProblem(forced)).toMatch(/no exit report/);
    const crashed = await runNode({ script: "lastCall();\nthrow new Error('boom');" });
    expect(promptExitProblem(crashed)).toMatch(/exit code 1.*boom/s);
    expect(promptExitProblem(await runNode({ script: '' }))).toMatch(/never called lastCall/);
  });

  it('kills a child that outlives its timeout and rejects with its output', async () => {
    await expect(
      runNode({ script: "console.log('started');\nsetInterval(() => {}, 1_000);", timeout: 500 }),
    ).rejects.toThrow(/did not exit within 500 ms \(killed\)\n--- stdout\nstarted/);
  });
});

describe('startNode', () => {
  it('waits for a line on stdout, then stops the child', async () => {
    const child = startNode({
      script: "console.log('listening on 1234');\nsetInterval(() => {}, 1_000);",
    });
    const match = await child.waitFor(/listening on (\d+)/);
    expect(match[1]).toBe('1234');
    const run = await child.stop('SIGTERM');
    expect(run.signal).toBe('SIGTERM');
  });

  it('waitFor rejects when the child exits without printing the pattern', async () => {
    await expect(startNode({ script: "console.log('bye');" }).waitFor(/never/)).rejects.toThrow(
      /exited before printing/,
    );
  });
});
