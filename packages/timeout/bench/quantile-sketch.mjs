// Hot-path cost of the window's sketch: our log-bucket QuantileEstimator vs @datadog/sketches-js.
// Run after `npx tsc -b packages/timeout`: node packages/timeout/bench/quantile-sketch.mjs
import { DDSketch } from '@datadog/sketches-js';
import { QuantileEstimator } from '../dist/index.js';

const N = 1_000_000;
const values = Float64Array.from({ length: 4096 }, () => 40 + Math.random() * 20);
let sink = 0;

function time(name, body) {
  for (let i = 0; i < 100_000; i++) body(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) body(i);
  const ns = Number(process.hrtime.bigint() - start) / N;
  console.log(`${name.padEnd(58)} ${ns.toFixed(1).padStart(8)} ns/op`);
}

const own = new QuantileEstimator();
time('own QuantileEstimator.observe (60 s / 10 slices)', (i) => own.observe(values[i & 4095]));
time('own observe + quantile(0.999)', (i) => {
  own.observe(values[i & 4095]);
  sink += own.quantile(0.999);
});

const dd = new DDSketch({ relativeAccuracy: 0.01 });
time('DDSketch.accept (one sketch, no window)', (i) => dd.accept(values[i & 4095]));
time('DDSketch.accept + getValueAtQuantile(0.999), one sketch', (i) => {
  dd.accept(values[i & 4095]);
  sink += dd.getValueAtQuantile(0.999);
});
// A sliding window with DDSketch: one sketch per slice, merged for every query (the library has
// no subtraction, so a running total cannot be kept).
const slices = Array.from({ length: 10 }, () => new DDSketch({ relativeAccuracy: 0.01 }));
for (let i = 0; i < 100_000; i++) slices[i % 10].accept(values[i & 4095]);
time('DDSketch window: accept + merge 10 slices + quantile', (i) => {
  slices[i % 10].accept(values[i & 4095]);
  if (i % 1 === 0) {
    const merged = new DDSketch({ relativeAccuracy: 0.01 });
    for (const s of slices) merged.merge(s);
    sink += merged.getValueAtQuantile(0.999);
  }
});
if (sink === 42) console.log(sink);
