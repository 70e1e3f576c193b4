/**
 * The memory check of performance.md: 1e6 sequential awaited calls through one case, in a fresh
 * process, and the heap retained after a full GC. Run as
 * `node --expose-gc dist/memory.js <case-id> [calls]`; prints one JSON line.
 */
import { cases, opened } from './cases.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('memory.js needs node --expose-gc');

const id = process.argv[2];
const calls = Number(process.argv[3] ?? 1_000_000);
const benchCase = cases.find((candidate) => candidate.id === id);
if (benchCase === undefined) throw new Error(`unknown case ${id}`);

const call = benchCase.make();
for (let i = 0; i < 10_000; i++) await call();
gc();
gc();
const before = process.memoryUsage().heapUsed;
const started = process.hrtime.bigint();
for (let i = 0; i < calls; i++) await call();
const elapsed = Number(process.hrtime.bigint() - started);
gc();
gc();
const after = process.memoryUsage().heapUsed;
console.log(
  JSON.stringify({
    id,
    calls,
    loopNsPerOp: +(elapsed / calls).toFixed(1),
    retainedBytes: after - before,
  }),
);
for (const breaker of opened) breaker.shutdown();
