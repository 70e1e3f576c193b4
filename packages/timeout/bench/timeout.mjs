// Per-call cost of the timeout policy on the success path: a quick hrtime loop, cases interleaved
// in rounds and the median round reported (the shared machine is noisy; the formal table is
// `pnpm bench`). Build first: npx tsc -b packages/timeout
//   node packages/timeout/bench/timeout.mjs
// With cockatiel side by side: COCKATIEL=/abs/path/to/cockatiel/dist/index.js node ...
import { pipeline } from '@faultline/core';
import { adaptiveTimeout, timeout } from '../dist/index.js';

const N = 50_000;
const ROUNDS = 7;
const ignores = async () => {};
const reads = async (ctx) => {
  ctx.signal;
};
const caller = new AbortController().signal;
const aggressive = timeout(1000);
const cooperative = timeout(1000, { strategy: 'cooperative' });
const adaptive = timeout(adaptiveTimeout({ minSamples: 1 }));
const nested = pipeline(timeout(10_000), timeout(1000));
const cases = {
  'bare await fn()': () => ignores(),
  'timeout aggressive, fn ignores signal': () => aggressive.execute(ignores),
  'timeout cooperative, fn ignores signal': () => cooperative.execute(ignores),
  'timeout aggressive, fn reads ctx.signal': () => aggressive.execute(reads),
  'timeout cooperative, fn reads ctx.signal': () => cooperative.execute(reads),
  'timeout aggressive + long-lived caller signal': () => aggressive.execute(ignores, caller),
  'timeout(adaptiveTimeout()), fn ignores signal': () => adaptive.execute(ignores),
  'pipeline(timeout, timeout), fn ignores signal': () => nested.execute(ignores),
};
if (process.env.COCKATIEL) {
  const c = await import(process.env.COCKATIEL);
  const coop = c.timeout(1000, c.TimeoutStrategy.Cooperative);
  cases['cockatiel cooperative, fn ignores signal'] = () => coop.execute(ignores);
  cases['cockatiel cooperative, fn reads signal'] = () =>
    coop.execute(({ signal }) => {
      signal.aborted;
      return ignores();
    });
}

async function round(body) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await body();
  return Number(process.hrtime.bigint() - start) / N;
}
const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let r = 0; r < 2; r++) for (const body of Object.values(cases)) await round(body); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, body] of Object.entries(cases)) results[name].push(await round(body));
}
const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
const bare = median(results['bare await fn()']);
for (const [name, values] of Object.entries(results)) {
  const ns = median(values);
  console.log(
    `${name.padEnd(48)} ${ns.toFixed(0).padStart(7)} ns/call  ${(ns / bare).toFixed(1).padStart(5)}× bare`,
  );
}
