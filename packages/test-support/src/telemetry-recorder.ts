import { afterEach } from 'vitest';

/** A stream of records to subscribe to: `telemetry` of @faultline/core, or one like it. */
export interface Subscribable<R> {
  subscribe(listener: (record: R) => void): () => void;
}

/**
 * Returns `record()`: it subscribes to `stream` and returns the array that each record published
 * from then on is pushed to, until the test ends. Call `telemetryRecorder` at a test file's top
 * level (or in a describe block): the afterEach hook that ends the subscriptions is registered
 * where it is called, so no test's subscription outlives it. The stream is an argument because
 * test-support depends on none of the packages it tests.
 */
export function telemetryRecorder<R>(stream: Subscribable<R>): () => R[] {
  const unsubscribes: Array<() => void> = [];
  afterEach(() => {
    for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
  });
  return () => {
    const records: R[] = [];
    unsubscribes.push(stream.subscribe((record) => records.push(record)));
    return records;
  };
}
