import { leakCheck } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// The child imports the built package (built by the Vitest global setup).
const dist = new URL('../dist/index.js', import.meta.url);

const setup = `
const { createIdempotency, memoryStore } = await import(${JSON.stringify(dist.href)});
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
// The warm-up's keys are negative (-5 000 … -1), the measured calls' 0 … 49 999. The warm-up
// fills the store to capacity: from then on every claim removes an expired record.
let next = -5000;
async function run(n) {
  for (let i = 0; i < n; i++) await one(next++);
}
let t0 = 0;
let t1 = 0;
`;

describe('leaks (child process on the built package)', () => {
  it('50 000 execute+replay cycles (100 000 begin calls): heap growth < 1 MB, store bounded, exit within 200 ms', async () => {
    // leakCheck also asserts no stderr, exit code 0, and no ref'd timer (sweep, renewal, store
    // timeout) that could keep the process alive after the last call.
    const result = await leakCheck<{ size: number; usPerCycle: number }>({
      label: 'idempotency',
      setup,
      warmup: 5_000,
      calls: 50_000,
      reset: 't0 = performance.now();',
      settle: 't1 = performance.now();',
      report: '{ size: store.size, usPerCycle: ((t1 - t0) * 1000) / 50_000 }',
    });
    expect(result.size).toBe(1000);
  }, 120_000);
});
