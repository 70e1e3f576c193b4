/**
 * `@faultline/telemetry/opentelemetry`: faultline's telemetry stream as OpenTelemetry metrics
 * and span events. Depends on `@opentelemetry/api` only (the instrumentation-library
 * convention): the application brings the SDK and its exporters.
 */

import { formatValue, type TelemetryRecord, telemetry } from '@faultline/core';
import {
  type Attributes,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableResult,
  type Span,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import {
  attemptAttributes,
  eventAttributes,
  executionAttributes,
  type Instrumentation,
  SECONDS_BUCKETS,
  stateReadings,
  subscribeInstrumentation,
} from './attributes.js';
import { EventTally } from './event-tally.js';

export type { Instrumentation } from './attributes.js';

/** Options of {@link instrumentOpenTelemetry}. */
export interface OpenTelemetryOptions {
  /** Where the instruments are created. Default: the global one (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProvider;
  /**
   * Span events go to the active span (`trace.getActiveSpan()`, through the registered context
   * manager), whichever provider made it, so a provider need not be given; `null` turns span
   * events off. Default: the global provider's spans.
   */
  readonly tracerProvider?: TracerProvider | null;
}

/** The instrumentation scope: this package. */
const SCOPE = '@faultline/telemetry';
const SCOPE_VERSION = '0.1.0';

/** OpenTelemetry's `SpanKind.CLIENT` (numeric, so that the enum need not be imported). */
const CLIENT_SPAN = 2;

/**
 * Records every faultline telemetry record as OpenTelemetry metrics (instrument names and
 * attributes after Polly v8's, under the `faultline.` prefix):
 *
 * | instrument | kind, unit |
 * |---|---|
 * | `faultline.resilience.events` | Counter, `{event}` |
 * | `faultline.resilience.attempt.duration` | Histogram, `s` |
 * | `faultline.resilience.pipeline.duration` | Histogram, `s` |
 * | `faultline.circuit_breaker.state` | ObservableGauge, `1` |
 *
 * Warning and error events (a give-up, a rejection, a circuit opening) are also added to the
 * active span, if any, as span events named `faultline.<event>`; a retried attempt sets
 * `http.request.resend_count` on an active HTTP client span. Attribute values are bounded: an
 * error is reported by its type, never its message; keys and URLs never appear.
 *
 * @example
 * ```ts
 * import { instrumentOpenTelemetry } from '@faultline/telemetry/opentelemetry';
 * const instrumentation = instrumentOpenTelemetry(); // the global providers
 * // ... on shutdown:
 * instrumentation.disable();
 * ```
 */
export function instrumentOpenTelemetry(options: OpenTelemetryOptions = {}): Instrumentation {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `instrumentOpenTelemetry: options must be an object, received ${formatValue(options)}`,
    );
  }
  const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
  if (typeof meterProvider?.getMeter !== 'function') {
    throw new TypeError(
      'instrumentOpenTelemetry: option "meterProvider" must be a MeterProvider (with getMeter())',
    );
  }
  const tracerProvider = options.tracerProvider;
  if (
    tracerProvider !== undefined &&
    tracerProvider !== null &&
    typeof tracerProvider.getTracer !== 'function'
  ) {
    throw new TypeError(
      'instrumentOpenTelemetry: option "tracerProvider" must be a TracerProvider (with getTracer()) or null',
    );
  }
  const meter: Meter = meterProvider.getMeter(SCOPE, SCOPE_VERSION);
  // Observable: the adapter keeps the counts (EventTally) and the SDK reads them at collection,
  // so an event costs a Map lookup rather than the SDK's per-add hashing of seven attributes.
  const events = meter.createObservableCounter('faultline.resilience.events', {
    description: 'Resilience events: retries, give-ups, timeouts, rejections, circuit transitions.',
    unit: '{event}',
  });
  const tally = new EventTally();
  const observeEvents = (result: ObservableResult): void => {
    for (const series of tally.series()) result.observe(series.count, series.attributes);
  };
  events.addCallback(observeEvents);
  const histogramAdvice = { advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS] } };
  const attempts = meter.createHistogram('faultline.resilience.attempt.duration', {
    description: 'Duration of each attempt made by a policy that makes several (retry, hedge).',
    unit: 's',
    ...histogramAdvice,
  });
  const executions = meter.createHistogram('faultline.resilience.pipeline.duration', {
    description: 'Duration of each top-level execute() of a policy or pipeline.',
    unit: 's',
    ...histogramAdvice,
  });
  const breakerState = meter.createObservableGauge('faultline.circuit_breaker.state', {
    description: 'Circuit breakers per name in each state (1 for the current state, 0 otherwise).',
    unit: '1',
  });
  const observeStates = (result: ObservableResult): void => {
    for (const [name, states] of stateReadings(telemetry.stateSources())) {
      for (const [state, count] of states) {
        result.observe(count, {
          'faultline.policy.name': name,
          'faultline.circuit_breaker.state': state,
        });
      }
    }
  };
  breakerState.addCallback(observeStates);

  const activeSpan = spanFinder(tracerProvider);
  const listener = (record: TelemetryRecord): void => {
    switch (record.type) {
      case 'event': {
        tally.add(record);
        if (record.severity === 'information') return;
        const span = activeSpan();
        if (span === undefined) return;
        const spanAttributes: Attributes = eventAttributes(record);
        if (record.attributes !== undefined) {
          for (const key of Object.keys(record.attributes)) {
            spanAttributes[`faultline.${key}`] = record.attributes[key];
          }
        }
        span.addEvent(`faultline.${record.event}`, spanAttributes);
        return;
      }
      case 'attempt': {
        attempts.record(record.duration / 1000, attemptAttributes(record));
        if (record.attempt > 1) {
          const span = activeSpan();
          // HTTP semantic conventions: the ordinal of the resend on an HTTP client span.
          if (span !== undefined && isHttpClientSpan(span)) {
            span.setAttribute('http.request.resend_count', record.attempt - 1);
          }
        }
        return;
      }
      case 'execution':
        executions.record(record.duration / 1000, executionAttributes(record));
        return;
    }
  };
  return subscribeInstrumentation(listener, () => {
    events.removeCallback(observeEvents);
    breakerState.removeCallback(observeStates);
  });
}

/** The active, recording span for span events; none when span events are off (`null`). */
function spanFinder(provider: TracerProvider | null | undefined): () => Span | undefined {
  if (provider === null) return () => undefined;
  return () => {
    const span = trace.getActiveSpan();
    return span?.isRecording() ? span : undefined;
  };
}

/**
 * Whether `span` is an HTTP client span: kind CLIENT with `http.request.method` (SDK spans expose
 * both; the API's `Span` interface does not, so other implementations never match).
 */
function isHttpClientSpan(span: Span): boolean {
  const sdkSpan = span as { kind?: unknown; attributes?: Record<string, unknown> };
  return sdkSpan.kind === CLIENT_SPAN && sdkSpan.attributes?.['http.request.method'] !== undefined;
}
