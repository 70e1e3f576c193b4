import {
  isExecutionRejected,
  type TelemetryAttemptRecord,
  type TelemetryEventRecord,
  type TelemetryExecutionRecord,
  type TelemetryListener,
  telemetry,
} from '@faultline/core';

/**
 * Bucket boundaries (seconds) of the duration histograms: the OpenTelemetry HTTP semantic
 * conventions' advice for `http.client.request.duration`. The SDK's defaults (0, 5, 10, … 10 000)
 * are shaped for milliseconds and would put every call under 5 s into one bucket.
 */
export const SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/** What the `instrument*` functions and `publishDiagnostics` return. */
export interface Instrumentation {
  /** Stops: unsubscribes from the telemetry stream and detaches what was registered. */
  disable(): void;
}

/**
 * Subscribes `listener` to core's telemetry stream until `disable()`, which unsubscribes and then
 * runs `detach` (what the exporter registered); a second `disable()` does nothing.
 */
export function subscribeInstrumentation(
  listener: TelemetryListener,
  detach: () => void,
): Instrumentation {
  const unsubscribe = telemetry.subscribe(listener);
  let enabled = true;
  return {
    disable() {
      if (!enabled) return;
      enabled = false;
      unsubscribe();
      detach();
    },
  };
}

/** The semantic conventions' value for an error whose type cannot be told. */
export const OTHER_ERROR = '_OTHER';

/**
 * `error.type` of an error (OpenTelemetry semantic conventions): the `code` of a faultline
 * rejection (`TIMEOUT`, `BROKEN_CIRCUIT`, …), otherwise the error's `name` (`TypeError`,
 * `AbortError`), never its message, which may hold URLs, keys or user data. A name that does not
 * look like an identifier (too long, or with spaces) is reported as `_OTHER` so that a library
 * building names from data cannot blow up the number of series.
 */
export function errorType(error: unknown): string {
  if (isExecutionRejected(error)) return boundedName(error.code);
  if (error !== null && typeof error === 'object') {
    return boundedName((error as { name?: unknown }).name);
  }
  return OTHER_ERROR;
}

const IDENTIFIER = /^[A-Za-z_$][\w$.:-]{0,63}$/;

function boundedName(name: unknown): string {
  return typeof name === 'string' && IDENTIFIER.test(name) ? name : OTHER_ERROR;
}

/** Metric attributes: OpenTelemetry names (`event.name`, …). Values are strings, numbers or booleans. */
export type MetricAttributes = Record<string, string | number | boolean>;

/**
 * The attributes of `faultline.resilience.events` for an event record. Record attributes (a
 * reason, a delay) are not among them: metric label sets stay fixed and bounded; span events
 * carry those.
 */
export function eventAttributes(record: TelemetryEventRecord): MetricAttributes {
  const attributes: MetricAttributes = {
    'event.name': record.event,
    'event.severity': record.severity,
    'faultline.policy.kind': record.policy.kind,
    'faultline.policy.name': record.policy.name,
  };
  if (record.pipeline !== undefined) attributes['faultline.pipeline.name'] = record.pipeline;
  if (record.operation !== undefined) attributes['faultline.operation'] = record.operation;
  if (record.error !== undefined) attributes['error.type'] = errorType(record.error);
  return attributes;
}

/** The attributes of `faultline.resilience.attempt.duration` for an attempt record. */
export function attemptAttributes(record: TelemetryAttemptRecord): MetricAttributes {
  const attributes: MetricAttributes = {
    'faultline.policy.name': record.policy.name,
    'faultline.attempt.number': record.attempt,
    'faultline.attempt.handled': record.handled,
  };
  if (record.pipeline !== undefined) attributes['faultline.pipeline.name'] = record.pipeline;
  if (record.error !== undefined) attributes['error.type'] = errorType(record.error);
  return attributes;
}

/** The attributes of `faultline.resilience.pipeline.duration` for an execution record. */
export function executionAttributes(record: TelemetryExecutionRecord): MetricAttributes {
  const attributes: MetricAttributes = { 'faultline.outcome': record.outcome };
  if (record.pipeline !== undefined) attributes['faultline.pipeline.name'] = record.pipeline;
  if (record.operation !== undefined) attributes['faultline.operation'] = record.operation;
  if (record.error !== undefined) attributes['error.type'] = errorType(record.error);
  return attributes;
}

/**
 * The gauge readings of `faultline.circuit_breaker.state`: for every tracked breaker name and
 * every state, how many breakers of that name are in it (1 or 0 when names are unique, as in
 * resilience4j; breakers left at the default name add up).
 */
export function stateReadings(
  sources: ReadonlyArray<{
    readonly policy: { readonly name: string };
    readonly states: readonly string[];
    readonly state: string;
  }>,
): Map<string, Map<string, number>> {
  const byName = new Map<string, Map<string, number>>();
  for (const source of sources) {
    let states = byName.get(source.policy.name);
    if (states === undefined) {
      states = new Map();
      byName.set(source.policy.name, states);
    }
    for (const state of source.states) {
      states.set(state, (states.get(state) ?? 0) + (state === source.state ? 1 : 0));
    }
  }
  return byName;
}
