import type { Deadline } from '@faultline/clock';
import { formatValue } from '@faultline/core';

/**
 * Where a `timeout` policy looks for an ambient deadline: the deadline of the request being
 * handled, carried implicitly through async calls. The main entry is browser-safe and has no
 * ambient store of its own; `@faultline/timeout/node` registers one backed by AsyncLocalStorage
 * when it is imported. Other runtimes (a zone, a framework's request scope) can register theirs.
 */
export type AmbientDeadlineProvider = () => Deadline | undefined;

let provider: AmbientDeadlineProvider | undefined;

/**
 * Installs the provider every `timeout` policy consults at the start of a call (one per process:
 * the last registration wins). Returns a function that removes it again. Called by
 * `@faultline/timeout/node`; exported for other runtimes' integrations.
 */
export function registerAmbientDeadlineProvider(next: AmbientDeadlineProvider): () => void {
  if (typeof next !== 'function') {
    throw new TypeError(
      `registerAmbientDeadlineProvider: provider must be a function, received ${formatValue(next)}`,
    );
  }
  provider = next;
  return () => {
    if (provider === next) provider = undefined;
  };
}

/** The ambient deadline, if a provider is registered and a deadline is in scope. */
export function ambientDeadline(): Deadline | undefined {
  return provider === undefined ? undefined : provider();
}

/** Whether a provider is registered: lets the hot path skip the call entirely when not. */
export function hasAmbientDeadlineProvider(): boolean {
  return provider !== undefined;
}
