/**
 * `pnpm bench`: every overhead case side by side in one mitata run, the ratios to bare await and
 * to the matching peer case, the memory check, and the targets of performance.md.
 * Writes the whole table to `benchmarks/results/latest.json`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bench, run } from 'mitata';
import { type Case, cases, opened } from './cases.js';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');

interface Row {
  id: string;
  label: string;
  avgNs: number;
  p50Ns: number;
  xBare: number;
  peer?: string;
  xPeer?: number;
  target?: number;
  targetBare?: number;
  met?: boolean;
}

const byLabel = new Map<string, Case>();
for (const benchCase of cases) {
  const call = benchCase.make();
  // Warm every case before mitata sees it. mitata times a case call by call (two clock reads
  // and an await added to every sample) instead of in batches of 4096 when the case's very first
  // call takes over 0.5 ms, which lazy compilation and a platform's first use of a timer or of
  // setImmediate can cause in whichever case touches them first; the bench measures the steady
  // per-call cost of a policy built once and reused, so no case may be timed the other way.
  for (let i = 0; i < 16; i++) await call();
  byLabel.set(benchCase.label, benchCase);
  bench(benchCase.label, async () => {
    await call();
  });
}

console.error(`faultline bench: ${cases.length} cases on Node ${process.version} (mitata)…`);
const { benchmarks } = await run({ format: 'quiet' });
const stats = new Map<string, { avg: number; p50: number }>();
for (const result of benchmarks) {
  const label = result.alias;
  const run0 = result.runs[0];
  if (run0?.stats === undefined) continue;
  const found = byLabel.get(label);
  if (found !== undefined) stats.set(found.id, { avg: run0.stats.avg, p50: run0.stats.p50 });
}
const bare = stats.get('bare')!.avg;

const rows: Row[] = cases.map((benchCase) => {
  const own = stats.get(benchCase.id)!;
  const row: Row = {
    id: benchCase.id,
    label: benchCase.label,
    avgNs: +own.avg.toFixed(1),
    p50Ns: +own.p50.toFixed(1),
    xBare: +(own.avg / bare).toFixed(2),
  };
  if (benchCase.peer !== undefined) {
    const peer = stats.get(benchCase.peer)!;
    row.peer = benchCase.peer;
    row.xPeer = +(own.avg / peer.avg).toFixed(3);
  }
  if (benchCase.target !== undefined) row.target = benchCase.target;
  if (benchCase.targetBare !== undefined) row.targetBare = benchCase.targetBare;
  if (benchCase.target !== undefined || benchCase.targetBare !== undefined) {
    row.met =
      (benchCase.target === undefined ||
        (row.xPeer ?? Number.POSITIVE_INFINITY) <= benchCase.target) &&
      (benchCase.targetBare === undefined || row.xBare <= benchCase.targetBare);
  }
  return row;
});

const pad = (text: string, width: number): string => text.padEnd(width);
const num = (value: number, digits = 0): string => value.toFixed(digits).padStart(9);
console.log('\n## Per-call overhead (ns/op; ratios measured in this run)\n');
console.log(
  `${pad('case', 54)} ${'avg ns'.padStart(9)} ${'p50 ns'.padStart(9)} ${'×bare'.padStart(7)}  ×peer (target)`,
);
for (const row of rows) {
  const peer =
    row.xPeer === undefined
      ? ''
      : `${row.xPeer.toFixed(3)}× ${row.peer} (≤ ${row.target}×${row.targetBare === undefined ? '' : `, ≤ ${row.targetBare}× bare`}) ${row.met ? 'MET' : 'MISSED'}`;
  console.log(
    `${pad(row.label, 54)} ${num(row.avgNs)} ${num(row.p50Ns)} ${row.xBare.toFixed(2).padStart(6)}×  ${peer}`,
  );
}

// performance.md also asks that opossum's fire() cost at least 3x our failure-rate breaker.
const opossumRatio = stats.get('opossum')!.avg / stats.get('breaker-rate')!.avg;
console.log(
  `\nopossum fire / faultline circuitBreaker failureRate: ${opossumRatio.toFixed(2)}× (target ≥ 3×) ${opossumRatio >= 3 ? 'MET' : 'MISSED'}`,
);

for (const breaker of opened) breaker.shutdown();

// Detector: heartbeat() + phi() per pair, in its own process (benchmarks/src/failure-detector.ts).
const detectorOutput = execFileSync(process.execPath, [join(here, 'failure-detector.js')], {
  encoding: 'utf8',
});
const detector = Number(/heartbeat\(\) \+ phi\(\): avg ([\d.]+) ns/.exec(detectorOutput)?.[1]);
console.log(
  `\nPhiAccrualDetector heartbeat() + phi(): ${detector.toFixed(1)} ns per pair (target ≤ 150 ns) ${detector <= 150 ? 'MET' : 'MISSED'}`,
);

// Memory: one fresh process per case, 1e6 calls, retained heap after full GC.
const memoryCalls = quick ? 100_000 : 1_000_000;
console.log(
  `\n## Memory: ${memoryCalls.toLocaleString('en')} calls, heap retained after full GC (target ≤ 64 KB for ours)\n`,
);
const memory: Array<{ id: string; retainedBytes: number; loopNsPerOp: number; met?: boolean }> = [];
for (const benchCase of cases.filter((candidate) => candidate.memory === true)) {
  const output = execFileSync(
    process.execPath,
    ['--expose-gc', join(here, 'memory.js'), benchCase.id, String(memoryCalls)],
    { encoding: 'utf8' },
  );
  const line = JSON.parse(output.trim().split('\n').pop()!) as {
    retainedBytes: number;
    loopNsPerOp: number;
  };
  const entry = {
    id: benchCase.id,
    retainedBytes: line.retainedBytes,
    loopNsPerOp: line.loopNsPerOp,
    ...(benchCase.ours ? { met: line.retainedBytes <= 64 * 1024 } : {}),
  };
  memory.push(entry);
  const kb = (line.retainedBytes / 1024).toFixed(1).padStart(9);
  console.log(
    `${pad(benchCase.label, 54)} ${kb} KB retained ${entry.met === undefined ? '' : entry.met ? 'MET' : 'MISSED'}`,
  );
}

const resultsDir = join(here, '..', 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, 'latest.json'),
  `${JSON.stringify({ node: process.version, date: new Date().toISOString(), bareNs: bare, rows, detectorNsPerPair: detector, opossumOverFailureRate: opossumRatio, memoryCalls, memory }, null, 2)}\n`,
);
console.log(`\nwrote ${join('benchmarks', 'results', 'latest.json')}`);
