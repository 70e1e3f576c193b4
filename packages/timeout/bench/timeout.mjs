// Per-call cost of the timeout policy on the success path (quick hrtime loop; the formal table is
// `pnpm bench`). Build first: npx tsc -b packages/timeout
//   node packages/timeout/bench/timeout.mjs
// Optionally compare with cockatiel: COCKATIEL=/abs/path/to/cockatiel/dist/index.js node ...
import { pipeline } from '@faultline/core';
import { adaptiveTimeout, timeout } from '../dist/index.js';

const N = 200_000;
const RUNS = 5;
const ignores = async () => {};
const reads = async (ctx) => {
  ctx.signal;
};

async function measure(body) {
  for (let i = 0; i < 20_000; i++) await body();
  const results = [];
  for (let r = 0; r < RUNS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await body();
    results.push(Number(process.hrtime.bigint() - start) / N);
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(RUNS / 2)];
}

const cases = [];
const add = (name, body) => cases.push([name, body]);
const caller = new AbortController().signal;
const aggressive = timeout(1000);
const cooperative = timeout(1000, { strategy: 'cooperative' });
const adaptive = timeout(adaptiveTimeout({ minSamples: 1 }));
const nested = pipeline(timeout(10_000), timeout(1000));
add('bare await fn()', () => ignores());
add('timeout aggressive, fn ignores signal', () => aggressive.execute(ignores));
add('timeout cooperative, fn ignores signal', () => cooperative.execute(ignores));
add('timeout aggressive, fn reads ctx.signal', () => aggressive.execute(reads));
add('timeout cooperative, fn reads ctx.signal', () => cooperative.execute(reads));
add('timeout aggressive + caller signal, ignores', () => aggressive.execute(ignores, caller));
add('timeout(adaptiveTimeout()), fn ignores signal', () => adaptive.execute(ignores));
add('pipeline(timeout, timeout), fn ignores signal', () => nested.execute(ignores));
if (process.env.COCKATIEL) {
  const c = await import(process.env.COCKATIEL);
  const coop = c.timeout(1000, c.TimeoutStrategy.Cooperative);
  add('cockatiel timeout cooperative, fn ignores signal', () => coop.execute(ignores));
  add('cockatiel timeout cooperative, fn reads signal', () =>
    coop.execute(async ({ signal }) => {
      signal.aborted;
    }),
  );
}
let bare = 0;
for (const [name, body] of cases) {
  const ns = await measure(body);
  if (bare === 0) bare = ns;
  console.log(
    `${name.padEnd(52)} ${ns.toFixed(0).padStart(7)} ns/call  ${(ns / bare).toFixed(1).padStart(5)}× bare`,
  );
}
