// Renders the charts of docs/guides/choosing-a-budget.md (the simulator's `retry-storm` scenario),
// docs/guides/timeout.md (`latency-shift`), docs/guides/hedging.md (`tail-latency`) and
// docs/guides/leases.md (`lease-pause`), with the simulator's own SVG charts. Deterministic for a
// seed: re-run it after a change to the policies or the model and commit the SVGs.
//   npx tsc -b packages/sim && node docs/images/render-charts.mjs
import { writeFileSync } from 'node:fs';
import {
  barChart,
  leasePauseCharts,
  lineChart,
  runLatencyShift,
  runLeasePause,
  runRetryStorm,
  runTailLatency,
  tailLatencyCharts,
} from '@faultline/sim';

const here = new URL('.', import.meta.url);
const report = await runRetryStorm({ seed: 1 });
const { outage } = report.model;
const byName = new Map(report.results.map((result) => [result.name, result]));
const pick = (names) => names.map((name) => byName.get(name)).filter((r) => r !== undefined);
const seconds = (ms) => ms / 1000;
// Bar labels are drawn rotated under the axis: keep them short ('3 attempts + breaker' → '+ breaker').
const short = (name) => name.replace(/^3 attempts \+ /, '+ ');

const loadSeries = (names) =>
  pick(names).map((result) => ({
    name: result.name,
    points: result.buckets.map((bucket) => [seconds(bucket.t), bucket.serverLoad]),
    ...(result.name === 'no retries' ? { dashed: true } : {}),
  }));
const band = { from: seconds(outage.start), to: seconds(outage.end), label: '10 s outage' };

const charts = {
  'retry-storm-load.svg': lineChart({
    title: `Server load, server at 80 % of ${report.model.capacity} req/s, 10 s outage (seed ${report.seed}, ${report.runs} runs)`,
    xLabel: 'time (s)',
    yLabel: 'attempts received per second',
    band,
    series: loadSeries([
      'no retries',
      '3 attempts',
      '3 attempts + token bucket',
      '3 attempts + ratio budget',
      '3 attempts + quota budget',
      '3 attempts + concurrency budget',
    ]),
  }),
  'retry-storm-amplification.svg': barChart({
    title: 'Attempts per request during the outage (amplification)',
    yLabel: 'attempts / request',
    reference: { value: 1, label: 'no retries' },
    bars: report.results.map((result) => ({
      label: short(result.name),
      value: result.amplification,
    })),
  }),
  'retry-storm-recovery.svg': barChart({
    title: 'Time to recover after the outage (goodput back within 5 %)',
    yLabel: 'ms after the outage ends',
    bars: report.results.map((result) => ({
      label: short(result.name),
      value: result.timeToRecover,
      ...(result.timeToRecover === null ? { note: 'not recovered' } : {}),
    })),
  }),
};
for (const [file, svg] of Object.entries(charts)) {
  writeFileSync(new URL(file, here), `${svg}\n`);
  console.log(`wrote docs/images/${file}`);
}
// The numbers quoted in the guide, so that a re-run shows what to update.
console.table(
  report.results.map(({ name, amplification, serverLoadOutage, timeToRecover, successRate }) => ({
    name,
    amplification,
    serverLoadOutage,
    timeToRecover,
    successRate,
  })),
);

// latency-shift: fixed vs adaptive per-attempt timeouts when latency jumps and comes back.
const shift = await runLatencyShift({ seed: 1 });
const shiftBand = {
  from: seconds(shift.model.shift.start),
  to: seconds(shift.model.shift.end),
  label: `latency × ${shift.model.shift.factor}`,
};
const shiftCharts = {
  'latency-shift-goodput.svg': lineChart({
    title: `Goodput when latency jumps ${shift.model.shift.factor}× (seed ${shift.seed}, ${shift.runs} runs)`,
    xLabel: 'time (s)',
    yLabel: 'successful requests per second',
    band: shiftBand,
    series: shift.results.map((result) => ({
      name: result.name,
      points: result.buckets.map((bucket) => [seconds(bucket.t), bucket.goodput]),
    })),
  }),
  'latency-shift-timeout.svg': lineChart({
    title: 'Per-attempt timeout in force',
    xLabel: 'time (s)',
    yLabel: 'timeout (ms)',
    band: shiftBand,
    logY: true,
    series: shift.results.map((result) => ({
      name: result.name,
      points: result.buckets.map((bucket) => [seconds(bucket.t), bucket.timeout]),
    })),
  }),
};
for (const [file, svg] of Object.entries(shiftCharts)) {
  writeFileSync(new URL(file, here), `${svg}\n`);
  console.log(`wrote docs/images/${file}`);
}
console.table(
  shift.results.map(({ name, successBefore, successDuring, successAfter, timeToAdapt, p99 }) => ({
    name,
    successBefore,
    successDuring,
    successAfter,
    timeToAdapt,
    p99,
  })),
);

// tail-latency: The Tail at Scale on the real hedge policy (docs/guides/hedging.md). About a
// minute of CPU: 20 000 fan-out requests of 100 leaves per policy.
const tail = await runTailLatency({ seed: 1 });
const [quantiles, load] = tailLatencyCharts(tail);
writeFileSync(new URL('tail-latency-quantiles.svg', here), `${quantiles}\n`);
writeFileSync(new URL('tail-latency-load.svg', here), `${load}\n`);
console.log('wrote docs/images/tail-latency-quantiles.svg, tail-latency-load.svg');
console.table(tail.results);

// lease-pause: Jepsen's lock-set with a pause nemesis on the real lease (docs/guides/leases.md).
// 10 000 seeds per variant, 30 000 runs: about 25 s of CPU.
const leases = await runLeasePause({ seed: 1 });
const [lostUpdates, staleWrites] = leasePauseCharts(leases);
writeFileSync(new URL('lease-pause-lost-updates.svg', here), `${lostUpdates}\n`);
writeFileSync(new URL('lease-pause-stale-writes.svg', here), `${staleWrites}\n`);
console.log('wrote docs/images/lease-pause-lost-updates.svg, lease-pause-stale-writes.svg');
console.table(leases.results);
