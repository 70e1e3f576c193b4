import { fileURLToPath, pathToFileURL } from 'node:url';
import { promptExitProblem, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// The exit test (CONTRIBUTING.md, "Tests that spawn Node"): a process that used the monitor, the registry's watch and real
// sockets exits promptly after its last call, so nothing we left behind (timers, sockets,
// listeners) keeps it alive. The child imports the built dist/ (built by the Vitest global setup).

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const script = (entry: string): string => `
import { createServer, get } from 'node:http';
import { DetectorRegistry, HeartbeatMonitor, PhiAccrualDetector } from ${JSON.stringify(entry)};

const server = createServer((_req, res) => res.writeHead(204).end());
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = 'http://127.0.0.1:' + server.address().port + '/';
const registry = new DetectorRegistry(() => new PhiAccrualDetector({ firstHeartbeatEstimate: 20 }));
const stopWatch = registry.watch({ interval: 10 });
const monitor = new HeartbeatMonitor({
  targets: [url, 'http://127.0.0.1:9/unreachable'],
  // node:http without keep-alive, not fetch: after its sockets close, fetch's bundled undici
  // keeps a child's event loop busy for another 150-300 ms (measured on a loaded machine; 8 ms
  // with this probe), which is undici's doing, not the monitor's.
  probe: (target, signal) =>
    new Promise((resolve, reject) => {
      get(target, { agent: false, signal }, (response) => {
        response.resume();
        response.on('end', resolve).on('error', reject);
      }).on('error', reject);
    }),
  interval: 20,
  registry,
});
monitor.start();
const started = Date.now();
while (!registry.isMonitoring(url) || Date.now() - started < 300) {
  if (Date.now() - started > 5000) throw new Error('no heartbeat recorded within 5 s');
  await new Promise((resolve) => setTimeout(resolve, 10));
}
monitor.stop();
stopWatch();
// Close the test server and wait until its sockets are gone: that teardown is the test's, not
// the library's. The library's last call was stop() above; nothing of it may outlive it.
await new Promise((resolve) => {
  server.close(resolve);
  server.closeAllConnections();
});
lastCall();
`;

describe('HeartbeatMonitor leaves nothing behind', () => {
  it('a child process that used it exits within 200 ms of its last call', async () => {
    const run = await runNode({ script: script(pathToFileURL(dist).href), timeout: 10_000 });
    expect(run.stderr, run.stderr).toBe('');
    // No ref'd timer is left at the last call (getActiveResourcesInfo lists only ref'd ones).
    expect(run.exit?.activeAtLastCall.filter((resource) => resource === 'Timeout')).toEqual([]);
    // The child's event loop drained promptly after its last call (~15 ms when idle).
    expect(promptExitProblem(run)).toBeUndefined();
  });
});
