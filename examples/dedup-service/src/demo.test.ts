/**
 * Runs the example as a user would (after `tsc -b`, which the Vitest global setup runs): the
 * demo with the memory store (always), and the demo and the service with Redis. Without Redis
 * the Redis tests are skipped with a loud message; under `CI=true` they fail instead.
 */
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type NodeChild, runNode, startNode } from '@faultline/test-support';
import { afterEach, describe, expect, it } from 'vitest';

const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const inCI = process.env.CI === 'true' || process.env.CI === '1';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({
      host: hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: Number(port || 6379),
    });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

// Decided once, before the tests are collected: skip (loudly) or fail (CI) without Redis.
const redisUp = await reachable(redisUrl);
if (!redisUp) {
  const message = `Redis is not reachable at ${redisUrl} (set REDIS_URL, or start it: redis-server --daemonize yes --bind 127.0.0.1; .ci/run starts it)`;
  if (inCI) throw new Error(`CI=true: ${message}`);
  console.warn(`\n!!! SKIPPING the Redis tests of examples/dedup-service: ${message}\n`);
}

const children: NodeChild[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.stop()));
});

function run(
  file: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode({ file, cwd: exampleDir, env });
}

function expectDemoStory(stdout: string): void {
  // Both instances got the same payment at once: one executed it; the other answered 409 (or,
  // on a machine so loaded that the first finished before the second arrived, replayed it).
  expect(stdout).toMatch(
    /1\. api-1 and api-2 at once → (?:201 payment api-\d-1 \| (?:409 CONFLICT.*Retry-After|201 payment api-\d-1 \[replayed\])|409 CONFLICT.*\| 201 payment api-\d-1)/,
  );
  expect(stdout).toMatch(/2\. retry on api-2 +→ 201 payment api-\d-1 \[replayed\]/);
  expect(stdout).toMatch(/retry on api-1 +→ 201 payment api-\d-1 \[replayed\]/);
  expect(stdout).toMatch(/3\. same key, amount 2000 +→ 422 FINGERPRINT_MISMATCH/);
  expect(stdout).toMatch(/4\. no key +→ 400 MISSING_KEY/);
  expect(stdout).toMatch(/charged 1 time\(s\) for key [0-9a-f-]{36}; total charges: 1/);
}

describe('examples/dedup-service', () => {
  it('demo with STORE=memory: two instances sharing one in-process store charge once', async () => {
    const { code, stdout, stderr } = await run('dist/demo.js', { STORE: 'memory' });
    expect(stderr).toBe('');
    expect(stdout).toContain('sharing the memory store');
    expectDemoStory(stdout);
    expect(code).toBe(0);
  }, 60_000);

  it.skipIf(!redisUp)(
    'demo with Redis: two instances sharing Redis charge once',
    async () => {
      const { code, stdout, stderr } = await run('dist/demo.js', {
        STORE: 'redis',
        REDIS_URL: redisUrl,
      });
      expect(stderr).toBe('');
      expect(stdout).toContain('sharing the redis store');
      expectDemoStory(stdout);
      expect(code).toBe(0);
    },
    60_000,
  );

  it.skipIf(!redisUp)(
    'pnpm start: the service replays a retried POST from Redis and stops on SIGTERM',
    async () => {
      const child = startNode({
        file: 'dist/server.js',
        cwd: exampleDir,
        env: { PORT: '0', STORE: 'redis', REDIS_URL: redisUrl },
      });
      children.push(child);
      const [, url] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) \(redis store/);
      const key = `example-test-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      const post = () =>
        fetch(`${url}/payments`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': key,
            authorization: 'Bearer demo-token-acme',
          },
          body: JSON.stringify({ amount: 42, currency: 'EUR' }),
          signal: AbortSignal.timeout(10_000),
        });
      const first = await post();
      const firstBody = await first.text();
      const retried = await post();
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(retried.status).toBe(201);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      expect(await retried.text()).toBe(firstBody);
      const stopped = await child.stop('SIGTERM');
      expect(stopped.code).toBe(0);
      expect(stopped.stdout).toContain('payments service stopped');
    },
    60_000,
  );
});
