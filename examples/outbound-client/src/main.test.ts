/**
 * Runs the example as a user would (`node dist/main.js` after `tsc -b`, which the Vitest global
 * setup runs) and checks its story:
 * retried reads, a POST retried with the same key and answered from the stored response, a 503
 * retried, and no order created twice.
 */
import { fileURLToPath } from 'node:url';
import { runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

const exampleDir = fileURLToPath(new URL('..', import.meta.url));

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode({
    file: 'dist/main.js',
    cwd: exampleDir,
    // Generous per-attempt timeout: the story holds at any value, and a loaded CI machine
    // must not turn a fast request into a timeout.
    env: { ATTEMPT_TIMEOUT_MS: '1500' },
    timeout: 30_000,
  });
}

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
