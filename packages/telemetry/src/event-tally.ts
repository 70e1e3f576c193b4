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
type ByType = Map<string, EventSeries>;
type ByOperation = Map<string, ByType>;
type ByPipeline = Map<string, ByOperation>;
type ByEvent = Map<string, ByPipeline>;

/** `map.get(key)`, creating an empty map there first if there is none. */
function child<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let found = map.get(key);
  if (found === undefined) {
    found = new Map();
    map.set(key, found);
  }
  return found;
}

export class EventTally {
  /** Series by policy kind and name: policies that share a name share their series. */
  readonly #byName = new Map<string, ByEvent>();
  /** The same maps by identity object, so that an event builds no string to find its series. */
  readonly #byPolicy = new WeakMap<PolicyIdentity, ByEvent>();
  readonly #all: EventSeries[] = [];

  /** Counts one event record. */
  add(record: TelemetryEventRecord): void {
    let byEvent = this.#byPolicy.get(record.policy);
    if (byEvent === undefined) {
      byEvent = child(this.#byName, `${record.policy.kind}\0${record.policy.name}`);
      this.#byPolicy.set(record.policy, byEvent);
    }
    // Nested maps keyed by the strings the record already holds (their hashes are cached):
    // building one key string per event cost more than the lookups.
    const byType = child(
      child(child(byEvent, record.event), record.pipeline ?? ''),
      record.operation ?? '',
    );
    const type = record.error === undefined ? '' : errorType(record.error);
    const found = byType.get(type);
    if (found !== undefined) {
      found.count++;
      return;
    }
    const series: EventSeries = { attributes: eventAttributes(record), count: 1 };
    byType.set(type, series);
    this.#all.push(series);
  }

  /** Every series counted so far (one per attribute set), in the order they appeared. */
  series(): readonly EventSeries[] {
    return this.#all;
  }
}
