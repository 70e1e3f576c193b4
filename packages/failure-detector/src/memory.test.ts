import { fileURLToPath, pathToFileURL } from 'node:url';
import { runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Heap growth after GC, measured in a child started with --expose-gc (the main test process
// does not depend on it). The child imports the built dist/ (built by the Vitest global setup).

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const script = (entry: string): string => `
const { DetectorRegistry, PhiAccrualDetector, ExponentialDetector } = await import(${JSON.stringify(entry)});
let t = 0;
const clock = { now: () => (t += 1000 + (t % 7)), sleep: async () => {}, setTimer: () => () => {} };
const phiDetector = new PhiAccrualDetector({ clock });
const expDetector = new ExponentialDetector({ clock });
const registry = new DetectorRegistry((key) => new PhiAccrualDetector({ clock }));
const round = (n) => {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    phiDetector.heartbeat(); sink += phiDetector.phi();
    expDetector.heartbeat(); sink += expDetector.phi();
    registry.heartbeat('peer-' + (i % 10)); sink += registry.phi('peer-' + (i % 10));
  }
  return sink;
};
round(10_000); // warm up: windows fill, code is optimized
globalThis.gc(); globalThis.gc();
const before = process.memoryUsage().heapUsed;
round(100_000);
globalThis.gc(); globalThis.gc();
const after = process.memoryUsage().heapUsed;
process.stdout.write(JSON.stringify({ growth: after - before }));
`;

describe('memory', () => {
  it('100 000 heartbeat()+phi() pairs per detector and registry key retain < 1 MB after GC', async () => {
    const run = await runNode({
      script: script(pathToFileURL(dist).href),
      nodeArgs: ['--expose-gc'],
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { growth } = JSON.parse(run.stdout) as { growth: number };
    expect(growth).toBeLessThan(1024 * 1024);
  });
});

// Memory per idle peer: detectors for many peers that have each sent one heartbeat.
const peersScript = (entry: string, peers: number): string => `
const { DetectorRegistry, PhiAccrualDetector, ExponentialDetector } = await import(${JSON.stringify(entry)});
let t = 0;
const clock = { now: () => (t += 1000), sleep: async () => {}, setTimer: () => () => {} };
const phiPeers = new DetectorRegistry(() => new PhiAccrualDetector({ clock }));
const expPeers = new DetectorRegistry(() => new ExponentialDetector({ clock }));
globalThis.gc(); globalThis.gc();
const before = process.memoryUsage();
for (let i = 0; i < ${peers}; i++) {
  phiPeers.heartbeat('peer-' + i);
  expPeers.heartbeat('peer-' + i);
}
globalThis.gc(); globalThis.gc();
const after = process.memoryUsage();
const retained = after.heapUsed + after.external - before.heapUsed - before.external;
process.stdout.write(JSON.stringify({ perPeer: retained / ${peers} / 2, size: phiPeers.size }));
`;

describe('memory per peer', () => {
  it('10 000 peers after one heartbeat each: < 1 KB per detector with the default window', async () => {
    // Issue 14 item 21: each detector allocated its whole window (1000 intervals, 8 KB) at
    // construction, so 100 000 peers cost 800 MB. The history now grows with what it holds.
    const run = await runNode({
      script: peersScript(pathToFileURL(dist).href, 10_000),
      nodeArgs: ['--expose-gc'],
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { perPeer } = JSON.parse(run.stdout) as { perPeer: number };
    expect(perPeer).toBeLessThan(1024);
  });
});
