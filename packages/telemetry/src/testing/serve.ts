import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach } from 'vitest';

/**
 * Serves `handler` on a loopback port and pushes its closing (keep-alive connections dropped)
 * onto `disposers`, which the test runs after it. Returns the base URL.
 */
export async function serveLocal(
  handler: RequestListener,
  disposers: Array<() => unknown>,
): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  disposers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * The disposers of one test file: what a test pushes is run, last pushed first, after each test
 * (`'each'`) or once after the file's tests (`'all'`).
 */
export function disposeAfter(after: 'each' | 'all'): Array<() => unknown> {
  const pending: Array<() => unknown> = [];
  (after === 'each' ? afterEach : afterAll)(async () => {
    for (const dispose of pending.splice(0).reverse()) await dispose();
  });
  return pending;
}
