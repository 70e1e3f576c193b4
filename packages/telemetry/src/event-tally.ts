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
  /** Series by policy kind and name: policies that share a name share their series. */
  readonly #byName = new Map<string, Map<string, EventSeries>>();
  /** The same maps by identity object: one lookup per event, without building a string. */
  readonly #byPolicy = new WeakMap<PolicyIdentity, Map<string, EventSeries>>();

  /** Counts one event record. */
  add(record: TelemetryEventRecord): void {
    let series = this.#byPolicy.get(record.policy);
    if (series === undefined) series = this.#seriesOf(record.policy);
    const type = record.error === undefined ? '' : errorType(record.error);
    // NUL separates the parts: it does not occur in event names, and a name or operation holding
    // one would only merge two series of that same policy.
    const key = `${record.event}\0${record.pipeline ?? ''}\0${record.operation ?? ''}\0${type}`;
    const found = series.get(key);
    if (found !== undefined) found.count++;
    else series.set(key, { attributes: eventAttributes(record), count: 1 });
  }

  /** Every series counted so far (one per attribute set). */
  *series(): IterableIterator<EventSeries> {
    for (const series of this.#byName.values()) yield* series.values();
  }

  #seriesOf(policy: PolicyIdentity): Map<string, EventSeries> {
    const name = `${policy.kind}\0${policy.name}`;
    let series = this.#byName.get(name);
    if (series === undefined) {
      series = new Map();
      this.#byName.set(name, series);
    }
    this.#byPolicy.set(policy, series);
    return series;
  }
}
