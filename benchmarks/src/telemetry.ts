/**
 * `node benchmarks/dist/telemetry.js` (after `npx tsc -b benchmarks`): what telemetry costs.
 *
 * - Per emitted record with the OpenTelemetry SDK attached (`instrumentOpenTelemetry` on a real
 *   `MeterProvider` with a cumulative in-memory reader): an event (counter), an attempt and an
 *   execution (histograms), each built and published the way a policy does. Target ≤ 1 µs per
 *   event (performance.md, round 2).
 * - The `pipeline(timeout, retry, breaker, timeout)` success path with no subscriber and with the
 *   SDK attached (two records per call: an attempt and an execution).
 * - `--baseline <dir>`: every `ours` case of `cases.ts` with no subscriber, side by side with the
 *   same case built from another checkout (`<dir>/benchmarks/dist/cases.js`, e.g. main before a
 *   change, built with `npx tsc -b`), interleaved in one mitata run: the ratios are the
 *   no-subscriber regression check.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  identify,
  publishAttempt,
  publishEvent,
  type TelemetryExecutionRecord,
  telemetry,
} from '@faultline/core';
import { instrumentOpenTelemetry } from '@faultline/telemetry/opentelemetry';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { bench, do_not_optimize } from 'mitata';
import { type Case, cases, opened } from './cases.js';
import { isMainModule, runRegistered } from './figures.js';

const identity = identify('bench', 'retry', 'github');
const call = { pipeline: 'github', operation: 'GET /repos/:owner' };
const error = new TypeError('fetch failed');
const execution: TelemetryExecutionRecord = {
  type: 'execution',
  pipeline: 'github',
  operation: 'GET /repos/:owner',
  duration: 12.5,
  outcome: 'failure',
  error,
};

function attachSdk(): { detach(): Promise<void> } {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const instrumentation = instrumentOpenTelemetry({ meterProvider, tracerProvider: null });
  return {
    async detach() {
      instrumentation.disable();
      await meterProvider.shutdown();
    },
  };
}

const byId = new Map(cases.map((benchCase) => [benchCase.id, benchCase]));
const pipelineCase = byId.get('pipeline')!;

async function main(): Promise<void> {
  const baselineAt = process.argv.indexOf('--baseline');
  const baselineDir = baselineAt === -1 ? undefined : process.argv[baselineAt + 1];

  // 1. Records with the SDK attached, and the pipeline with and without it. mitata runs the
  // cases one after the other, so the subscriber is attached and detached around each.
  const detaching: Array<Promise<void>> = [];
  const sdkCases = !process.argv.includes('--baseline-only');
  const withSdk = (name: string, body: () => unknown) =>
    bench(name, function* () {
      const sdk = attachSdk();
      yield body;
      detaching.push(sdk.detach());
    });
  if (sdkCases) {
    withSdk('event record → OTel counter (7 attributes)', () => {
      publishEvent(identity, call, 'retry', 0, error, { attempt: 1, delay: 100 });
    });
    withSdk('attempt record → OTel histogram', () => {
      publishAttempt(identity, call, 2, true, 12.5, error);
    });
    withSdk('execution record → OTel histogram', () => {
      telemetry.publish(execution);
    });
    const noop = () => {};
    bench('event record → a no-op subscriber', function* () {
      const unsubscribe = telemetry.subscribe(noop);
      yield () => publishEvent(identity, call, 'retry', 0, error, { attempt: 1, delay: 100 });
      unsubscribe();
    });
    const bare = byId.get('bare')!.make();
    bench('bare await fn()', async () => {
      await bare();
    });
    const quiet = pipelineCase.make();
    bench('pipeline success, no subscriber', async () => {
      do_not_optimize(await quiet());
    });
    const observed = pipelineCase.make();
    withSdk('pipeline success, OTel SDK attached', () => observed());
  }

  // 2. Every one of our cases against the baseline checkout's build of the same case.
  let baseline: readonly Case[] = [];
  const pairs: string[] = [];
  if (baselineDir !== undefined) {
    const url = pathToFileURL(resolve(baselineDir, 'benchmarks/dist/cases.js')).href;
    baseline = ((await import(url)) as { cases: readonly Case[] }).cases;
    for (const ours of cases.filter((candidate) => candidate.ours)) {
      const theirs = baseline.find((candidate) => candidate.id === ours.id);
      if (theirs === undefined) continue;
      const before = theirs.make();
      const after = ours.make();
      bench(`before: ${ours.id}`, async () => {
        await before();
      });
      bench(`after: ${ours.id}`, async () => {
        await after();
      });
      pairs.push(ours.id);
    }
    // The same pairs again in the opposite order (ABBA): a case that runs second inherits the
    // first one's garbage and timer-list state, so each side runs once in each position.
    for (const id of [...pairs].reverse()) {
      // Built in the opposite order too: the first policy built measured consistently slower.
      const after = byId.get(id)!.make();
      const before = baseline.find((candidate) => candidate.id === id)!.make();
      bench(`after: ${id} (2)`, async () => {
        await after();
      });
      bench(`before: ${id} (2)`, async () => {
        await before();
      });
    }
  }

  const figures = await runRegistered();
  await Promise.all(detaching);
  for (const breaker of opened) breaker.shutdown();
  const avg = (name: string) => figures.find((figure) => figure.name === name)?.avgNs ?? NaN;
  const p50 = (name: string) => figures.find((figure) => figure.name === name)?.p50Ns ?? NaN;
  console.log('## Telemetry cost (ns per operation, this run)\n');
  for (const figure of figures) {
    if (figure.name.startsWith('before:') || figure.name.startsWith('after:')) continue;
    console.log(
      `${figure.name.padEnd(48)} avg ${figure.avgNs.toFixed(1).padStart(8)}  p50 ${figure.p50Ns.toFixed(1).padStart(8)}`,
    );
  }
  console.log(`\n(telemetry.hasSubscribers after the run: ${telemetry.hasSubscribers})`);
  const event = avg('event record → OTel counter (7 attributes)');
  console.log(
    `\nper emitted event with the OTel SDK attached: ${(event / 1000).toFixed(3)} µs (target ≤ 1 µs) ${event <= 1000 ? 'MET' : 'MISSED'}`,
  );
  const overhead =
    avg('pipeline success, OTel SDK attached') - avg('pipeline success, no subscriber');
  console.log(
    `pipeline success path, SDK attached − no subscriber: ${overhead.toFixed(0)} ns per call (2 records)`,
  );
  if (baseline.length > 0) {
    console.log('\n## No subscriber: after / before (same run, interleaved)\n');
    const both = (get: (name: string) => number, side: string, id: string) =>
      (get(`${side}: ${id}`) + get(`${side}: ${id} (2)`)) / 2;
    for (const id of pairs) {
      const before = both(avg, 'before', id);
      const after = both(avg, 'after', id);
      const before50 = both(p50, 'before', id);
      const after50 = both(p50, 'after', id);
      console.log(
        `${id.padEnd(24)} before ${before.toFixed(1).padStart(7)}  after ${after.toFixed(1).padStart(7)}  avg ×${(after / before).toFixed(3)}  p50 ${before50.toFixed(1)} → ${after50.toFixed(1)} ×${(after50 / before50).toFixed(3)}`,
      );
    }
  }
}

if (isMainModule(import.meta.url)) await main();
