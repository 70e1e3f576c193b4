import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// The quality spec's exit test: a process that used the monitor, the registry's watch and real
// sockets exits promptly after its last call, so nothing we left behind (timers, sockets,
// listeners) keeps it alive. The child imports the built dist/ (the test command builds first).

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const script = (entry: string): string => `
import { createServer } from 'node:http';
import { DetectorRegistry, HeartbeatMonitor, PhiAccrualDetector } from ${JSON.stringify(entry)};

const server = createServer((_req, res) => res.writeHead(204).end());
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = 'http://127.0.0.1:' + server.address().port + '/';
const registry = new DetectorRegistry(() => new PhiAccrualDetector({ firstHeartbeatEstimate: 20 }));
const stopWatch = registry.watch({ interval: 10 });
const monitor = new HeartbeatMonitor({
  targets: [url, 'http://127.0.0.1:9/unreachable'],
  probe: async (target, signal) => {
    const response = await fetch(target, { signal });
    await response.arrayBuffer();
  },
  interval: 20,
  registry,
});
monitor.start();
await new Promise((resolve) => setTimeout(resolve, 300));
if (!registry.isMonitoring(url)) throw new Error('no heartbeat recorded');
monitor.stop();
stopWatch();
server.closeAllConnections();
server.close();
process.stdout.write('LAST ' + Date.now() + '\\n');
`;

describe('HeartbeatMonitor leaves nothing behind', () => {
  it('a child process that used it exits within 200 ms of its last call', async () => {
    expect(existsSync(dist), `build first: npx tsc -b packages/failure-detector (${dist})`).toBe(
      true,
    );
    const dir = mkdtempSync(join(tmpdir(), 'faultline-fd-'));
    const file = join(dir, 'child.mjs');
    writeFileSync(file, script(pathToFileURL(dist).href));
    try {
      const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      const { code, exitedAt } = await new Promise<{ code: number | null; exitedAt: number }>(
        (resolve, reject) => {
          const guard = setTimeout(() => {
            child.kill();
            reject(new Error(`child did not exit within 10 s; stdout: ${out} stderr: ${err}`));
          }, 10_000);
          child.on('exit', (exitCode) => {
            clearTimeout(guard);
            resolve({ code: exitCode, exitedAt: Date.now() });
          });
        },
      );
      expect(err).toBe('');
      expect(code).toBe(0);
      const last = Number(/LAST (\d+)/.exec(out)?.[1]);
      expect(Number.isFinite(last)).toBe(true);
      expect(exitedAt - last).toBeLessThan(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
