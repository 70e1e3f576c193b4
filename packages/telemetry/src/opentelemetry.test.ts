import { circuitBreaker, consecutiveFailures } from '@faultline/breaker';
import { VirtualClock } from '@faultline/clock';
import { named, pipeline } from '@faultline/core';
import { constant, retry, tokenBucketBudget } from '@faultline/retry';
import { timeout } from '@faultline/timeout';
import { context, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  DataPointType,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { SECONDS_BUCKETS } from './attributes.js';
import { instrumentOpenTelemetry } from './opentelemetry.js';
import { flakyServerForFile, get } from './testing/flaky-server.js';
import { disposeAfter } from './testing/serve.js';

const server = flakyServerForFile();
const disposers = disposeAfter('each');

/** A MeterProvider with an in-memory exporter; `collect()` returns the metrics by name. */
function meters() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  disposers.push(() => meterProvider.shutdown());
  return {
    meterProvider,
    async collect() {
      await reader.forceFlush();
      const exported = exporter.getMetrics();
      const last = exported[exported.length - 1];
      const byName = new Map<
        string,
        {
          unit: string;
          type: DataPointType;
          points: Array<{ attributes: Record<string, unknown>; value: unknown }>;
        }
      >();
      for (const scope of last?.scopeMetrics ?? []) {
        for (const metric of scope.metrics) {
          byName.set(metric.descriptor.name, {
            unit: metric.descriptor.unit,
            type: metric.dataPointType,
            points: metric.dataPoints.map((p) => ({
              attributes: { ...p.attributes },
              value: p.value,
            })),
          });
        }
      }
      return byName;
    },
  };
}

/** The scenario's pipeline: a total timeout, retry with a token-bucket budget, a breaker, a per-attempt timeout. */
function inventoryPipeline() {
  const breakerClock = new VirtualClock();
  // gRFC A6 with 6 tokens: a retry is granted while the bucket stays above 3 after paying 1.
  const budget = tokenBucketBudget({ maxTokens: 6, tokenRatio: 1 });
  const policy = named(
    'inventory',
    pipeline(
      timeout(10_000, { name: 'call' }),
      retry({ maxAttempts: 3, backoff: constant(1), budget, name: 'inventory-retry' }),
      circuitBreaker({
        trip: consecutiveFailures(3),
        breakDuration: 300,
        clock: breakerClock,
        name: 'inventory-breaker',
      }),
      // Generous, so that a loaded machine's slow answer is never mistaken for the hang.
      timeout(1_000, { name: 'attempt' }),
    ),
  );
  return { policy, breakerClock, budget };
}

type Outcome = string;
async function call(policy: ReturnType<typeof inventoryPipeline>['policy']): Promise<Outcome> {
  try {
    return await policy.execute(({ signal }) => get(`${server.url}/stock`, signal), {
      operation: 'GET /stock',
    });
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).name;
  }
}

/**
 * The scenario, call by call (tokens in thousandths; threshold 3 000, +1 000 per success):
 * C1 ok · C2 503 then ok (retry) · C3 hang → attempt timeout, then ok (retry) · C4 503 ×3
 * (2 retries, the 3rd failure opens the breaker, give-up: attempts) · C5 rejected by the open
 * breaker · break elapses · C6 probe ok → closed · C7 503, retry, 503 → the budget denies
 * (6 000 − 1 000 − 1 000 +… see below) · C8 ok.
 */
async function runScenario(
  policy: ReturnType<typeof inventoryPipeline>['policy'],
  breakerClock: VirtualClock,
) {
  const outcomes: Outcome[] = [];
  server.script('ok'); // C1
  outcomes.push(await call(policy));
  server.script('fail', 'ok'); // C2
  outcomes.push(await call(policy));
  server.script('hang', 'ok'); // C3
  outcomes.push(await call(policy));
  server.script('fail', 'fail', 'fail'); // C4
  outcomes.push(await call(policy));
  outcomes.push(await call(policy)); // C5: no request
  await breakerClock.advance(300);
  server.script('ok'); // C6
  outcomes.push(await call(policy));
  server.script('fail', 'fail'); // C7
  outcomes.push(await call(policy));
  server.script('ok'); // C8
  outcomes.push(await call(policy));
  return outcomes;
}

describe('OpenTelemetry metrics from a real MeterProvider (flaky HTTP server on loopback)', () => {
  it('counts every event by event.name and records each attempt with its attributes', async () => {
    const { meterProvider, collect } = meters();
    disposers.push(instrumentOpenTelemetry({ meterProvider, tracerProvider: null }).disable);
    const { policy, breakerClock, budget } = inventoryPipeline();
    const before = server.requests;
    const outcomes = await runScenario(policy, breakerClock);
    expect(outcomes).toEqual([
      'ok',
      'ok',
      'ok',
      'HttpStatusError',
      'BROKEN_CIRCUIT',
      'ok',
      'HttpStatusError',
      'ok',
    ]);
    expect(server.requests - before).toBe(12);
    expect(server.pending).toBe(0);
    expect(budget.tokens).toBe(4);

    const metrics = await collect();
    const events = metrics.get('faultline.resilience.events')!;
    expect(events.unit).toBe('{event}');
    const count = (name: string) =>
      events.points
        .filter((p) => p.attributes['event.name'] === name)
        .reduce((sum, p) => sum + (p.value as number), 0);
    const counts = Object.fromEntries(
      [...new Set(events.points.map((p) => p.attributes['event.name'] as string))].map((name) => [
        name,
        count(name),
      ]),
    );
    expect(counts).toEqual({
      retry: 5,
      timeout: 1,
      'give-up': 2,
      'budget-exhausted': 1,
      'circuit-opened': 1,
      'circuit-rejected': 1,
      'circuit-half-opened': 1,
      'circuit-closed': 1,
    });
    // Every series carries the full, bounded attribute set.
    const opened = events.points.find((p) => p.attributes['event.name'] === 'circuit-opened')!;
    expect(opened.attributes).toEqual({
      'event.name': 'circuit-opened',
      'event.severity': 'error',
      'faultline.policy.kind': 'circuit-breaker',
      'faultline.policy.name': 'inventory-breaker',
      'faultline.pipeline.name': 'inventory',
      'faultline.operation': 'GET /stock',
    });
    const timedOut = events.points.find((p) => p.attributes['event.name'] === 'timeout')!;
    expect(timedOut.attributes).toMatchObject({
      'event.severity': 'warning',
      'faultline.policy.kind': 'timeout',
      'faultline.policy.name': 'attempt',
      'error.type': 'TIMEOUT',
    });
    const giveUps = events.points.filter((p) => p.attributes['event.name'] === 'give-up');
    expect(giveUps.map((p) => [p.attributes['error.type'], p.value])).toEqual([
      ['HttpStatusError', 2],
    ]);
    const rejected = events.points.find((p) => p.attributes['event.name'] === 'circuit-rejected')!;
    expect(rejected.attributes['error.type']).toBe('BROKEN_CIRCUIT');

    // Attempts: one histogram point per attribute set, counting the attempts it saw.
    const attempts = metrics.get('faultline.resilience.attempt.duration')!;
    expect(attempts.unit).toBe('s');
    expect(attempts.type).toBe(DataPointType.HISTOGRAM);
    const attemptCounts = attempts.points
      .map((p) => [
        p.attributes['faultline.attempt.number'],
        p.attributes['faultline.attempt.handled'],
        p.attributes['error.type'] ?? null,
        (p.value as Histogram).count,
      ])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(attemptCounts).toEqual(
      [
        [1, false, null, 3],
        [1, true, 'HttpStatusError', 3],
        [1, true, 'TIMEOUT', 1],
        [1, false, 'BROKEN_CIRCUIT', 1],
        [2, false, null, 2],
        [2, true, 'HttpStatusError', 2],
        [3, true, 'HttpStatusError', 1],
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    for (const point of attempts.points) {
      expect(point.attributes['faultline.policy.name']).toBe('inventory-retry');
      expect(point.attributes['faultline.pipeline.name']).toBe('inventory');
      expect((point.value as Histogram).buckets.boundaries).toEqual(SECONDS_BUCKETS);
    }
    // The timed-out attempt lasted at least the per-attempt timeout, 1 s: a bucket above 0.75 s
    // ((0.75, 1] or (1, 2.5]: a timer fires at or after its time).
    const timedOutAttempt = attempts.points.find((p) => p.attributes['error.type'] === 'TIMEOUT')!;
    const histogram = timedOutAttempt.value as Histogram;
    expect(histogram.sum).toBeGreaterThanOrEqual(0.999);
    const above = histogram.buckets.counts.slice(SECONDS_BUCKETS.indexOf(0.75) + 1);
    expect(above.reduce((sum, count) => sum + count, 0)).toBe(1);

    // Executions of the named pipeline, by outcome.
    const executions = metrics.get('faultline.resilience.pipeline.duration')!;
    const byOutcome = executions.points.map((p) => [
      p.attributes['faultline.pipeline.name'],
      p.attributes['faultline.operation'],
      p.attributes['faultline.outcome'],
      p.attributes['error.type'] ?? null,
      (p.value as Histogram).count,
    ]);
    expect(byOutcome.sort()).toEqual(
      [
        ['inventory', 'GET /stock', 'success', null, 5],
        ['inventory', 'GET /stock', 'failure', 'HttpStatusError', 2],
        ['inventory', 'GET /stock', 'rejected', 'BROKEN_CIRCUIT', 1],
      ].sort(),
    );

    // The breaker's state gauge: closed now.
    const state = metrics.get('faultline.circuit_breaker.state')!;
    const mine = state.points.filter(
      (p) => p.attributes['faultline.policy.name'] === 'inventory-breaker',
    );
    expect(
      Object.fromEntries(
        mine.map((p) => [p.attributes['faultline.circuit_breaker.state'], p.value]),
      ),
    ).toEqual({
      closed: 1,
      open: 0,
      'half-open': 0,
      isolated: 0,
    });
  });

  it('disable() stops recording', async () => {
    const { meterProvider, collect } = meters();
    const instrumentation = instrumentOpenTelemetry({ meterProvider, tracerProvider: null });
    instrumentation.disable();
    instrumentation.disable();
    const { policy } = inventoryPipeline();
    server.script('fail', 'ok');
    await call(policy);
    const metrics = await collect();
    expect(metrics.get('faultline.resilience.events')?.points ?? []).toEqual([]);
  });

  it('rejects options that are not providers', () => {
    expect(() => instrumentOpenTelemetry({ meterProvider: {} as never })).toThrow(/meterProvider/);
    expect(() => instrumentOpenTelemetry({ tracerProvider: {} as never })).toThrow(
      /tracerProvider/,
    );
  });
});

describe('OpenTelemetry span events from a real tracer provider', () => {
  it('adds warning and error events to the active span; information events stay metrics', async () => {
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    disposers.push(() => {
      context.disable();
    });
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(spans)],
    });
    const tracer = tracerProvider.getTracer('test');
    const { meterProvider } = meters();
    disposers.push(instrumentOpenTelemetry({ meterProvider, tracerProvider }).disable);
    const { policy, breakerClock } = inventoryPipeline();

    const outcomes = await tracer.startActiveSpan(
      'GET /stock',
      { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET' } },
      async (span) => {
        try {
          return await runScenario(policy, breakerClock);
        } finally {
          span.end();
        }
      },
    );
    expect(outcomes[3]).toBe('HttpStatusError');
    // Outside any span: the budget refuses the retry (budget-exhausted, give-up), and with no
    // active span the events are metrics only; nothing breaks.
    server.script('fail');
    expect(await call(policy)).toBe('HttpStatusError');

    const [span] = spans.getFinishedSpans();
    expect(span).toBeDefined();
    const names = span!.events.map((event) => event.name);
    expect(names).toEqual([
      'faultline.timeout', // C3
      'faultline.circuit-opened', // C4
      'faultline.give-up', // C4
      'faultline.circuit-rejected', // C5
      'faultline.budget-exhausted', // C7
      'faultline.give-up', // C7
    ]);
    const giveUp = span!.events.find((event) => event.name === 'faultline.give-up')!;
    expect(giveUp.attributes).toMatchObject({
      'event.severity': 'warning',
      'faultline.policy.name': 'inventory-retry',
      'faultline.pipeline.name': 'inventory',
      'error.type': 'HttpStatusError',
      'faultline.reason': 'attempts',
      'faultline.attempts': 3,
    });
    for (const event of span!.events) {
      expect(JSON.stringify(event.attributes)).not.toContain('127.0.0.1');
    }
    // The last resend in the span was C7's second attempt (C4's third came before it).
    expect(span!.attributes['http.request.resend_count']).toBe(1);
    await tracerProvider.shutdown();
  });
});
