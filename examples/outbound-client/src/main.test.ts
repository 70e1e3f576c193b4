/**
 * Runs the example as a user would (`node dist/main.js` after `tsc -b`) and checks its story:
 * retried reads, a POST retried with the same key and answered from the stored response, a 503
 * retried, and no order created twice.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(exampleDir, '..', '..');

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: exampleDir,
      // Generous per-attempt timeout: the story holds at any value, and a loaded CI machine
      // must not turn a fast request into a timeout.
      env: { ...process.env, ATTEMPT_TIMEOUT_MS: '1500' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-b', 'examples/outbound-client'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (build.status !== 0) {
    throw new Error(`tsc -b examples/outbound-client failed:\n${build.stdout}${build.stderr}`);
  }
}, 120_000);

describe('examples/outbound-client', () => {
  it('retries, deduplicates by idempotency key and creates every order exactly once', async () => {
    const { code, stdout, stderr } = await run();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // Reads: two scripted 503s retried (Retry-After: 0), then 200.
    expect(stdout).toMatch(/\[reads\] attempt 1 failed \(HTTP 503\)/);
    expect(stdout).toMatch(/\[reads\] attempt 2 failed \(HTTP 503\)/);
    expect(stdout).toContain('GET /stock → 200 {"widgets":7}');
    // The slow order: the first attempt timed out while the server was still executing it; the
    // retry carried the same key and got the stored response of that first execution.
    expect(stdout).toMatch(/\[writes\] attempt 1 failed \(TimeoutError/);
    expect(stdout).toMatch(
      /POST \/orders slow-widget → 201 \{"id":"ord_\d","item":"slow-widget"\} \(replayed/,
    );
    // The flaky order: a 503 releases the key, so the retry executes again and succeeds.
    expect(stdout).toMatch(/\[writes\] attempt 1 failed \(RetryableStatusError/);
    expect(stdout).toMatch(/POST \/orders flaky-gadget → 201/);
    expect(stdout).toMatch(/POST \/orders plain-bolt → 201/);
    expect(stdout).toMatch(/3 orders created for 3 POSTs; keys created twice: 0;/);
  }, 60_000);
});
