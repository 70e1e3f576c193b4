/** A listener for events of type `T`. */
export type Listener<T> = (event: T) => void;

/** Reports a listener's error the way EventTarget does, without touching the call's outcome. */
function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') {
    report(error);
    return;
  }
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * A tiny typed event channel. `subscribe` returns an unsubscribe function; with no listeners,
 * `emit` is one length check. Listeners are copied on write so (un)subscribing during an emit
 * is safe.
 */
export class EventChannel<T> {
  #listeners: ReadonlyArray<Listener<T>> = [];

  get hasListeners(): boolean {
    return this.#listeners.length > 0;
  }

  subscribe(listener: Listener<T>): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`event listener must be a function, received ${String(listener)}`);
    }
    this.#listeners = [...this.#listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners = this.#listeners.filter((_, i) => i !== index);
    };
  }

  emit(event: T): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }
}
