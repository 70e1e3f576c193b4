import { circuitBreaker, consecutiveFailures } from '@faultline/breaker';
import { VirtualClock } from '@faultline/clock';
import { named, pipeline } from '@faultline/core';
import { constant, retry } from '@faultline/retry';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { instrumentOpenTelemetry } from './opentelemetry.js';
import { instrumentPrometheus, PROMETHEUS_METRICS } from './prometheus.js';
import { flakyServerForFile, get } from './testing/flaky-server.js';
import { disposeAfter, serveLocal } from './testing/serve.js';

const upstream = flakyServerForFile();
const disposers = disposeAfter('each');

/** Serves `handler` as `/metrics` on a loopback port; returns a scrape function. */
async function metricsEndpoint(
  handler: (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => void,
): Promise<() => Promise<string>> {
  const url = `${await serveLocal(handler, disposers)}/metrics`;
  return async () => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    return response.text();
  };
}

/** A breaker that opens on the second consecutive failure, inside a named pipeline with retry. */
function ordersPipeline(breakerName: string) {
  const clock = new VirtualClock();
  const breaker = circuitBreaker({
    trip: consecutiveFailures(2),
    breakDuration: 1_000,
    clock,
    name: breakerName,
  });
  const policy = named(
    'orders',
    pipeline(retry({ maxAttempts: 2, backoff: constant(1), name: 'orders-retry' }), breaker),
  );
  const call = () =>
    policy
      .execute(({ signal }) => get(`${upstream.url}/orders`, signal), { operation: 'GET /orders' })
      .then(
        () => 'ok',
        (error: Error) => error.name,
      );
  return { clock, call };
}

/** `name{labels} value` lines of `metric` in a Prometheus text exposition. */
function samples(
  text: string,
  metric: string,
): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const match = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

/**
 * The OTel exporter (0.2xx) writes instrument names as they are, dots as underscores, and adds
 * `_total` to counters but no unit suffix: the state gauge keeps its name, and the histograms
 * lack prom-client's `_seconds`.
 */
const OTEL_STATE_METRIC = 'faultline_circuit_breaker_state';

const SPEC_EVENT_LABELS = [
  'event_name',
  'event_severity',
  'faultline_policy_kind',
  'faultline_policy_name',
  'faultline_pipeline_name',
  'faultline_operation',
];

async function scenario(
  scrape: () => Promise<string>,
  stateMetric: string,
  histogramSuffix: string,
  breakerName: string,
): Promise<void> {
  // Each test its own breaker name: breakers that share a name add up on the gauge.
  const { clock, call } = ordersPipeline(breakerName);
  const state = async () => {
    const text = await scrape();
    const mine = samples(text, stateMetric).filter(
      (s) => s.labels.faultline_policy_name === breakerName,
    );
    return Object.fromEntries(mine.map((s) => [s.labels.faultline_circuit_breaker_state, s.value]));
  };
  expect(await state()).toEqual({ closed: 1, open: 0, 'half-open': 0, isolated: 0 });
  upstream.script('fail', 'fail');
  expect(await call()).toBe('HttpStatusError'); // 2 attempts, 2 failures: the breaker opens
  expect(await state()).toEqual({ closed: 0, open: 1, 'half-open': 0, isolated: 0 });
  expect(await call()).toBe('BrokenCircuitError');
  await clock.advance(1_000);
  // Scraping reads the state: half-open once the break has elapsed, without moving the breaker.
  expect(await state()).toEqual({ closed: 0, open: 0, 'half-open': 1, isolated: 0 });
  upstream.script('ok');
  expect(await call()).toBe('ok');
  expect(await state()).toEqual({ closed: 1, open: 0, 'half-open': 0, isolated: 0 });

  const text = await scrape();
  const events = samples(text, 'faultline_resilience_events_total');
  const opened = events.find(
    (s) =>
      s.labels.event_name === 'circuit-opened' && s.labels.faultline_policy_name === breakerName,
  );
  expect(opened).toBeDefined();
  for (const label of SPEC_EVENT_LABELS) expect(opened!.labels).toHaveProperty(label);
  expect(opened!.labels).toMatchObject({
    event_name: 'circuit-opened',
    event_severity: 'error',
    faultline_policy_kind: 'circuit-breaker',
    faultline_policy_name: breakerName,
    faultline_pipeline_name: 'orders',
    faultline_operation: 'GET /orders',
  });
  expect(opened!.value).toBe(1);
  const rejected = events.find((s) => s.labels.event_name === 'circuit-rejected')!;
  expect(rejected.labels.error_type).toBe('BROKEN_CIRCUIT');
  const retried = events.find((s) => s.labels.event_name === 'retry')!;
  expect(retried.labels.error_type).toBe('HttpStatusError');
  expect(text).not.toContain('127.0.0.1');
  // The duration histograms are there too, in seconds.
  const attempt = `faultline_resilience_attempt_duration${histogramSuffix}`;
  const pipelineDuration = `faultline_resilience_pipeline_duration${histogramSuffix}`;
  expect(text).toContain(`${attempt}_bucket{`);
  expect(text).toContain(`${pipelineDuration}_bucket{`);
  // Explicit second-based buckets: 5 ms first, 10 s last.
  expect(text).toMatch(new RegExp(`${attempt}_bucket\\{[^}]*le="0\\.005"`));
  expect(text).toMatch(new RegExp(`${attempt}_bucket\\{[^}]*le="10"`));
  const attempts = samples(text, `${attempt}_count`);
  expect(attempts.find((s) => s.labels.faultline_attempt_number === '2')).toMatchObject({
    labels: { faultline_policy_name: 'orders-retry', faultline_attempt_handled: 'true' },
  });
}

describe('/metrics over HTTP', () => {
  it('from the OpenTelemetry Prometheus exporter: events with the same labels, a breaker gauge that flips', async () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const meterProvider = new MeterProvider({ readers: [exporter] });
    disposers.push(() => meterProvider.shutdown());
    disposers.push(instrumentOpenTelemetry({ meterProvider, tracerProvider: null }).disable);
    const scrape = await metricsEndpoint((req, res) => exporter.getMetricsRequestHandler(req, res));
    await scenario(scrape, OTEL_STATE_METRIC, '', 'orders-otel');
  });

  it('from prom-client: the same metric names and labels', async () => {
    const registry = new Registry();
    disposers.push(instrumentPrometheus({ registry }).disable);
    const scrape = await metricsEndpoint(async (_req, res) => {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    });
    await scenario(scrape, PROMETHEUS_METRICS.breakerState, '_seconds', 'orders-prom');
    const text = await scrape();
    expect(text).toContain('# TYPE faultline_resilience_events_total counter');
    expect(text).toContain('# TYPE faultline_circuit_breaker_state gauge');
  });

  it('prom-client: one instrumentation per registry; disable() unregisters', () => {
    const registry = new Registry();
    const first = instrumentPrometheus({ registry });
    expect(() => instrumentPrometheus({ registry })).toThrow(
      /already has faultline_resilience_events_total/,
    );
    first.disable();
    expect(registry.getSingleMetric(PROMETHEUS_METRICS.events)).toBeUndefined();
    instrumentPrometheus({ registry }).disable();
    expect(() => instrumentPrometheus({ registry: {} as never })).toThrow(/registry/);
  });
});
