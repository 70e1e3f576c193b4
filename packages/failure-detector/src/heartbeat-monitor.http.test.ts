import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '@faultline/clock';
import { afterEach, describe, expect, it } from 'vitest';
import { DetectorRegistry } from './detector-registry.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import { PhiAccrualDetector } from './phi-accrual-detector.js';

// Real sockets on loopback, real time. Intervals are short (30 ms) so the whole file takes
// ~2 s; assertions leave room for a loaded 2-core machine (event-loop stalls of a few hundred ms).

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];

async function listen(handler: Handler, port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function shut(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map(shut));
});

/** systemClock, counting the timers set and neither fired nor cancelled. */
function countingClock(): { clock: Clock; pending: () => number } {
  let pending = 0;
  const clock: Clock = {
    now: () => systemClock.now(),
    sleep: (ms, signal) => systemClock.sleep(ms, signal),
    setTimer(ms, callback, options) {
      pending++;
      let live = true;
      const cancel = systemClock.setTimer(
        ms,
        () => {
          if (live) pending--;
          live = false;
          callback();
        },
        options,
      );
      return () => {
        if (live) pending--;
        live = false;
        cancel();
      };
    },
  };
  return { clock, pending: () => pending };
}

async function httpProbe(url: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(url, { signal });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
}

/** Resolves when `predicate` holds; rejects after `timeout` ms (a generous client-side bound). */
async function waitFor(predicate: () => boolean, timeout: number, what: string): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function activeSockets(): number {
  return process
    .getActiveResourcesInfo()
    .filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Timeout').length;
}

describe('HeartbeatMonitor against real HTTP servers', () => {
  it('a stopped server becomes a suspect within the time phi predicts, and recovers on restart', async () => {
    const baseline = activeSockets();
    const ok: Handler = (_req, res) => {
      res.writeHead(204).end();
    };
    const a = await listen(ok);
    const b = await listen(ok);
    const urlA = `http://127.0.0.1:${a.port}/health`;
    const urlB = `http://127.0.0.1:${b.port}/health`;
    const { clock, pending } = countingClock();
    const threshold = 8;
    const registry = new DetectorRegistry<string>(
      () =>
        new PhiAccrualDetector({
          threshold,
          firstHeartbeatEstimate: 30,
          acceptableHeartbeatPause: 150,
          minStdDeviation: 20,
          clock,
        }),
      { clock },
    );
    const events: Array<{ kind: string; key: string; at: number }> = [];
    registry.onSuspect((key) => events.push({ kind: 'suspect', key, at: performance.now() }));
    registry.onRecover((key) => events.push({ kind: 'recover', key, at: performance.now() }));
    const monitor = new HeartbeatMonitor({
      targets: [urlA, urlB],
      probe: (url, signal) => httpProbe(url, signal),
      interval: 30,
      timeout: 1000,
      registry,
      clock,
    });
    const stopWatch = registry.watch({ interval: 10 });
    monitor.start();
    try {
      // Warm up: 12 learned intervals each, so the detectors know the real heartbeat rhythm.
      const learned = (url: string): number =>
        (registry.get(url) as PhiAccrualDetector | undefined)?.history.size ?? 0;
      await waitFor(
        () =>
          learned(urlA) >= 14 &&
          learned(urlB) >= 14 &&
          registry.isAvailable(urlA) &&
          registry.isAvailable(urlB),
        10_000,
        'warm-up heartbeats',
      );

      // Stop A. phi predicts when it crosses the threshold if no heartbeat arrives from now.
      const predicted = registry.get(urlA)!.timeUntilUnavailable();
      const stoppedAt = performance.now();
      await shut(a.server);
      await waitFor(
        () => events.some((e) => e.kind === 'suspect' && e.key === urlA),
        predicted + 5000,
        'A suspected',
      );
      const suspect = events.find((e) => e.kind === 'suspect' && e.key === urlA)!;
      const detectedAfter = suspect.at - stoppedAt;
      // A probe already answered may still land just after the stop, so the crossing can come a
      // little later than predicted; the watch adds up to one interval (10 ms). The slack covers
      // timer and event-loop delays on a loaded machine.
      expect(detectedAfter).toBeGreaterThan(predicted - 20);
      expect(detectedAfter).toBeLessThan(predicted + 60 + 400);
      expect(registry.isAvailable(urlA)).toBe(false);
      expect(registry.suspects()).toContain(urlA);

      // Restart A on the same port: the next successful probe is a heartbeat; the watch recovers it.
      const restartedAt = performance.now();
      await listen(ok, a.port);
      await waitFor(
        () => events.some((e) => e.kind === 'recover' && e.key === urlA),
        5000,
        'A recovered',
      );
      const recover = events.find((e) => e.kind === 'recover' && e.key === urlA)!;
      expect(recover.at - restartedAt).toBeLessThan(1000);
      expect(registry.isAvailable(urlA)).toBe(true);
      await waitFor(() => registry.isAvailable(urlB), 5000, 'B available');
    } finally {
      monitor.stop();
      stopWatch();
    }
    // stop() leaves no timers: every timer the monitor and the watch set is fired or cancelled.
    expect(pending()).toBe(0);
    // Probes aborted by stop() release their slot when fetch rejects (promptly, on abort).
    await waitFor(() => monitor.inFlight === 0, 1000, 'aborted probes to settle');
    await Promise.all(servers.splice(0).map(shut));
    // And nothing of ours keeps the process busy: no sockets, servers or ref'd timers left.
    await waitFor(() => activeSockets() <= baseline, 5000, 'sockets to close');
  });

  it('never sends a second probe to a target while one is in flight (server-side count)', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    let requests = 0;
    const delays = new Set<ReturnType<typeof setTimeout>>();
    const slow = await listen((_req, res) => {
      requests++;
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        concurrent--;
      };
      res.on('close', finish);
      const delay = setTimeout(() => {
        delays.delete(delay);
        res.writeHead(204).end();
        finish();
      }, 120);
      delays.add(delay);
    });
    const { clock, pending } = countingClock();
    const registry = new DetectorRegistry<string>(
      () => new PhiAccrualDetector({ firstHeartbeatEstimate: 150, clock }),
    );
    const url = `http://127.0.0.1:${slow.port}/slow`;
    const monitor = new HeartbeatMonitor({
      targets: [url],
      probe: (target, signal) => httpProbe(target, signal),
      interval: 20, // six ticks per response
      timeout: 5000, // never aborts here: every probe runs to completion
      registry,
      clock,
    });
    monitor.start();
    try {
      await waitFor(() => requests >= 5, 10_000, 'five probes');
    } finally {
      monitor.stop();
    }
    expect(maxConcurrent).toBe(1);
    expect(pending()).toBe(0);
    for (const delay of delays) clearTimeout(delay);
    expect(registry.isMonitoring(url)).toBe(true);
  });
});
