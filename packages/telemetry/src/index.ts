/**
 * `@faultline/telemetry`: adapters from faultline's telemetry stream (`telemetry` in
 * `@faultline/core`) to OpenTelemetry (`@faultline/telemetry/opentelemetry`), Prometheus
 * through prom-client (`@faultline/telemetry/prometheus`) and Node's `diagnostics_channel`
 * (`@faultline/telemetry/node`). This entry holds what they share: the attribute mapping, the
 * error type rule and the histogram buckets. Browser-safe.
 *
 * @packageDocumentation
 */
export {
  attemptAttributes,
  errorType,
  eventAttributes,
  executionAttributes,
  type Instrumentation,
  type MetricAttributes,
  OTHER_ERROR,
  SECONDS_BUCKETS,
  stateReadings,
} from './attributes.js';
