import { fileURLToPath } from 'node:url';
import { promptExitProblem, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// The child imports the built package (built by the Vitest global setup).
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const script = (entry: string) => `
import { createIdempotency, memoryStore } from ${JSON.stringify(entry)};
const N = Number(process.argv[2]);
// The store's clock moves 100 s per cycle, so a record (recordTtl 24 h) expires after 864 cycles:
// the store stays full of live and expired records, and each claim reuses an expired one's room.
let now = 0;
const clock = { now: () => now, setTimer: (ms, fn) => { const t = setTimeout(fn, ms); t.unref(); return () => clearTimeout(t); } };
const store = memoryStore({ maxEntries: 1000, clock });
const idem = createIdempotency({ store, scope: () => 's' });
const body = new TextEncoder().encode('{"ok":true}');
const req = (i) => ({ method: 'POST', path: '/x', headers: { 'idempotency-key': 'k' + i, 'content-type': 'application/json' }, body: '{"a":1}' });
async function one(i) {
  const r = await idem.begin(req(i));
  if (r.kind !== 'execute' || !r.token) throw new Error('expected execute, got ' + r.kind);
  await idem.complete(r.token, { status: 201, headers: { 'content-type': 'application/json' }, body });
  if ((await idem.begin(req(i))).kind !== 'replay') throw new Error('expected replay');
  now += 100_000;
}
// Warm up until the store is at capacity: from then on every claim removes an expired record.
for (let i = 0; i < 5000; i++) await one(-i - 1);
globalThis.gc(); globalThis.gc();
const h0 = process.memoryUsage().heapUsed;
const t0 = performance.now();
for (let i = 0; i < N; i++) await one(i);
const t1 = performance.now();
globalThis.gc(); globalThis.gc();
const h1 = process.memoryUsage().heapUsed;
process.stdout.write(JSON.stringify({ N, usPerCycle: (t1 - t0) * 1000 / N, heapGrowth: h1 - h0, size: store.size }) + '\\n');
lastCall();
`;

describe('leaks (child process on the built package)', () => {
  it('50 000 execute+replay cycles (100 000 begin calls): heap growth < 1 MB, store bounded, exit within 200 ms', async () => {
    const run = await runNode({
      script: script(dist),
      nodeArgs: ['--expose-gc'],
      args: ['50000'],
      timeout: 110_000,
    });
    const { code, stdout: out, stderr: err } = run;
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(out) as { heapGrowth: number; size: number; usPerCycle: number };
    expect(result.size).toBe(1000);
    expect(result.heapGrowth).toBeLessThan(1024 * 1024);
    // No ref'd timer (sweep, renewal, store timeout) keeps the process alive after the last call.
    expect(promptExitProblem(run)).toBeUndefined();
  }, 120_000);
});
