import type { PolicyIdentity, TelemetryEventRecord } from '@faultline/core';
import { errorType, eventAttributes, type MetricAttributes } from './attributes.js';

/** One series of the events counter: its attributes (built once) and its running count. */
export interface EventSeries {
  readonly attributes: MetricAttributes;
  count: number;
}

/**
 * The events counter, kept by the adapters themselves and reported at collection time (an OTel
 * ObservableCounter, a prom-client collect()). Metric SDKs hash the whole attribute set on every
 * add (OpenTelemetry JS sorts and JSON-encodes it: several µs for seven attributes); a tally
 * pays one Map lookup per policy and one per (event, pipeline, operation, error type) instead,
 * and the SDK hashes each series once per collection. Counts are cumulative, as the counter's.
 */
export class EventTally {
  readonly #byPolicy = new Map<PolicyIdentity, Map<string, EventSeries>>();

  /** Counts one event record. */
  add(record: TelemetryEventRecord): void {
    let series = this.#byPolicy.get(record.policy);
    if (series === undefined) {
      series = new Map();
      this.#byPolicy.set(record.policy, series);
    }
    const type = record.error === undefined ? '' : errorType(record.error);
    // NUL cannot occur in a name the vocabulary or checkName lets through as meaningful text.
    const key = `${record.event}\0${record.pipeline ?? ''}\0${record.operation ?? ''}\0${type}`;
    const found = series.get(key);
    if (found !== undefined) found.count++;
    else series.set(key, { attributes: eventAttributes(record), count: 1 });
  }

  /** Every series counted so far. */
  *series(): IterableIterator<EventSeries> {
    for (const series of this.#byPolicy.values()) yield* series.values();
  }
}
