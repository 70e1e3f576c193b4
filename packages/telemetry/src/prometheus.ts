/**
 * `@faultline/telemetry/prometheus`: faultline's telemetry stream as prom-client metrics, for
 * applications that expose `/metrics` with prom-client (a peer dependency). OpenTelemetry users
 * get the same series through the OTel Prometheus exporter instead.
 */

import { formatValue, type TelemetryRecord, telemetry } from '@faultline/core';
import { Counter, Gauge, Histogram, type Registry, register } from 'prom-client';
import {
  attemptAttributes,
  executionAttributes,
  type Instrumentation,
  type MetricAttributes,
  SECONDS_BUCKETS,
  stateReadings,
  subscribeInstrumentation,
} from './attributes.js';
import { EventTally } from './event-tally.js';

export type { Instrumentation } from './attributes.js';

/** Options of {@link instrumentPrometheus}. */
export interface PrometheusOptions {
  /** The registry the metrics are registered in. Default prom-client's global `register`. */
  readonly registry?: Registry;
}

/**
 * The metric names: `instrumentOpenTelemetry`'s instruments (./opentelemetry.ts) with dots as
 * underscores, as the OpenTelemetry Prometheus exporter names them.
 */
export const PROMETHEUS_METRICS = Object.freeze({
  events: 'faultline_resilience_events_total',
  attemptDuration: 'faultline_resilience_attempt_duration_seconds',
  pipelineDuration: 'faultline_resilience_pipeline_duration_seconds',
  breakerState: 'faultline_circuit_breaker_state',
});

const EVENT_LABELS = [
  'event_name',
  'event_severity',
  'faultline_policy_kind',
  'faultline_policy_name',
  'faultline_pipeline_name',
  'faultline_operation',
  'error_type',
] as const;
const ATTEMPT_LABELS = [
  'faultline_policy_name',
  'faultline_pipeline_name',
  'faultline_attempt_number',
  'faultline_attempt_handled',
  'error_type',
] as const;
const EXECUTION_LABELS = [
  'faultline_pipeline_name',
  'faultline_operation',
  'faultline_outcome',
  'error_type',
] as const;
const STATE_LABELS = ['faultline_policy_name', 'faultline_circuit_breaker_state'] as const;

/**
 * OpenTelemetry attribute names to Prometheus label names (dots become underscores), values to
 * strings. An attribute that is absent is an absent label, as the OTel exporter writes it.
 */
function labels(attributes: MetricAttributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(attributes)) {
    out[key.replaceAll('.', '_')] = String(attributes[key]);
  }
  return out;
}

/**
 * Registers `faultline_resilience_events_total`, `faultline_resilience_attempt_duration_seconds`,
 * `faultline_resilience_pipeline_duration_seconds` and `faultline_circuit_breaker_state` (read
 * at scrape time) in `registry`, and keeps them up to date from the telemetry stream. The label
 * sets are the OpenTelemetry adapter's, with underscores.
 *
 * @example
 * ```ts
 * import { register } from 'prom-client';
 * import { instrumentPrometheus } from '@faultline/telemetry/prometheus';
 * instrumentPrometheus(); // prom-client's global registry
 * app.get('/metrics', async (_req, res) => res.type(register.contentType).send(await register.metrics()));
 * ```
 * @throws Error if `registry` already has faultline's metrics (instrument it once).
 */
export function instrumentPrometheus(options: PrometheusOptions = {}): Instrumentation {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `instrumentPrometheus: options must be an object, received ${formatValue(options)}`,
    );
  }
  const registry = options.registry ?? register;
  if (typeof registry?.registerMetric !== 'function') {
    throw new TypeError(
      'instrumentPrometheus: option "registry" must be a prom-client Registry (with registerMetric())',
    );
  }
  for (const name of Object.values(PROMETHEUS_METRICS)) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new Error(
        `instrumentPrometheus: the registry already has ${name}; call instrumentPrometheus once per registry (disable() the previous one first)`,
      );
    }
  }
  const registers = [registry];
  // Counted by the adapter and written at scrape time: prom-client hashes the labels of every
  // inc(), which would make each event cost microseconds.
  const tally = new EventTally();
  new Counter({
    name: PROMETHEUS_METRICS.events,
    help: 'Resilience events: retries, give-ups, timeouts, rejections, circuit transitions.',
    labelNames: EVENT_LABELS,
    registers,
    collect() {
      this.reset();
      for (const series of tally.series()) this.inc(labels(series.attributes), series.count);
    },
  });
  // Both durations in seconds, on the same buckets (the OpenTelemetry adapter's too).
  const seconds = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Histogram<L>({ name, help, labelNames, buckets: [...SECONDS_BUCKETS], registers });
  const attempts = seconds(
    PROMETHEUS_METRICS.attemptDuration,
    'Duration of each attempt made by a policy that makes several (retry, hedge).',
    ATTEMPT_LABELS,
  );
  const executions = seconds(
    PROMETHEUS_METRICS.pipelineDuration,
    'Duration of each top-level execute() of a policy or pipeline.',
    EXECUTION_LABELS,
  );
  new Gauge({
    name: PROMETHEUS_METRICS.breakerState,
    help: 'Circuit breakers per name in each state (1 for the current state, 0 otherwise).',
    labelNames: STATE_LABELS,
    registers,
    // Read at scrape time; reading a breaker's state never changes it.
    collect() {
      this.reset();
      for (const [name, states] of stateReadings(telemetry.stateSources())) {
        for (const [state, count] of states) {
          this.set({ faultline_policy_name: name, faultline_circuit_breaker_state: state }, count);
        }
      }
    },
  });

  const listener = (record: TelemetryRecord): void => {
    switch (record.type) {
      case 'event':
        tally.add(record);
        return;
      case 'attempt':
        attempts.observe(labels(attemptAttributes(record)), record.duration / 1000);
        return;
      case 'execution':
        executions.observe(labels(executionAttributes(record)), record.duration / 1000);
        return;
    }
  };
  return subscribeInstrumentation(listener, () => {
    for (const name of Object.values(PROMETHEUS_METRICS)) registry.removeSingleMetric(name);
  });
}
