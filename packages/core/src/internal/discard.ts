function ignore(): void {}

/**
 * Drops a handled result that a policy replaces (a retried 503, a hedge's losing answer). A fetch
 * `Response` whose body is never read holds its connection until garbage collection (undici:
 * "consume or cancel the response body"), so a burst of replaced 503s could exhaust the pool:
 * its body is cancelled. Anything else is left alone.
 */
export function discardResult(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const { body, bodyUsed } = value as { body?: unknown; bodyUsed?: unknown };
  if (bodyUsed !== false || body === null || typeof body !== 'object') return;
  const cancel = (body as { cancel?: unknown }).cancel;
  if (typeof cancel !== 'function') return;
  try {
    // Rejects when a listener locked the body to read it: then it is theirs to finish.
    Promise.resolve(cancel.call(body)).then(undefined, ignore);
  } catch {
    // Not a real stream: nothing to release.
  }
}
