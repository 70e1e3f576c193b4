/**
 * `node:events` for test files run in a browser (vitest.browser.config.ts aliases it here).
 * The tests use Node's `getEventListeners(signal, 'abort')` to prove that no listener is left
 * on a caller's signal; browsers cannot list an EventTarget's listeners, so this module tracks
 * them by wrapping `EventTarget.prototype.addEventListener`/`removeEventListener` from the
 * moment it is imported (before the test file's own code runs). Listeners a browser removes on
 * its own (`once`, an `AbortSignal` in the options) are untracked when that happens.
 */

type Listener = EventListenerOrEventListenerObject;
interface Entry {
  readonly listener: Listener;
  readonly capture: boolean;
}

const tracked = new WeakMap<EventTarget, Map<string, Entry[]>>();
const prototype = EventTarget.prototype;
const originalAdd = prototype.addEventListener;
const originalRemove = prototype.removeEventListener;

const captureOf = (options: boolean | EventListenerOptions | undefined): boolean =>
  typeof options === 'boolean' ? options : (options?.capture ?? false);

function untrack(target: EventTarget, type: string, listener: Listener, capture: boolean): void {
  const entries = tracked.get(target)?.get(type);
  if (entries === undefined) return;
  const index = entries.findIndex((e) => e.listener === listener && e.capture === capture);
  if (index >= 0) entries.splice(index, 1);
}

if (!(prototype as { __faultlineTracked?: boolean }).__faultlineTracked) {
  (prototype as { __faultlineTracked?: boolean }).__faultlineTracked = true;
  prototype.addEventListener = function (
    this: EventTarget,
    type: string,
    listener: Listener | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    originalAdd.call(this, type, listener, options);
    if (listener === null) return;
    const capture = captureOf(options);
    let types = tracked.get(this);
    if (types === undefined) {
      types = new Map();
      tracked.set(this, types);
    }
    const entries = types.get(type) ?? [];
    types.set(type, entries);
    if (entries.some((e) => e.listener === listener && e.capture === capture)) return;
    entries.push({ listener, capture });
    const forget = (): void => untrack(this, type, listener, capture);
    if (typeof options === 'object' && options.once === true) {
      // Registered after the listener, so it runs after it, once, on the same event.
      originalAdd.call(this, type, forget, { once: true, capture });
    }
    if (typeof options === 'object' && options.signal !== undefined) {
      originalAdd.call(options.signal, 'abort', forget, { once: true });
    }
  };
  prototype.removeEventListener = function (
    this: EventTarget,
    type: string,
    listener: Listener | null,
    options?: boolean | EventListenerOptions,
  ): void {
    originalRemove.call(this, type, listener, options);
    if (listener !== null) untrack(this, type, listener, captureOf(options));
  };
}

/** Node's `events.getEventListeners` for an EventTarget. */
export function getEventListeners(target: EventTarget, type: string): Listener[] {
  return (tracked.get(target)?.get(type) ?? []).map((e) => e.listener);
}

/** Node's `events.setMaxListeners`: browsers have no listener limit, so nothing to do. */
export function setMaxListeners(_n?: number, ..._targets: EventTarget[]): void {}

/** Node's `events.once` for an EventTarget: resolves with the event's arguments. */
export function once(target: EventTarget, type: string): Promise<unknown[]> {
  return new Promise((resolve) => {
    originalAdd.call(target, type, (event: Event) => resolve([event]), { once: true });
  });
}
