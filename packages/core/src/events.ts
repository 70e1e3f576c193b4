import { formatValue, reportListenerError } from '@faultline/clock/internal';

/** A listener for events of type `T`. */
export type Listener<T> = (event: T) => void;

/** One subscription; `removed` lets an emit in progress skip a listener removed mid-dispatch. */
interface Subscription<T> {
  readonly listener: Listener<T>;
  removed: boolean;
}

/**
 * A tiny typed event channel. `subscribe` returns an unsubscribe function; with no listeners,
 * `emit` is one length check (policies test {@link hasListeners} before building an event).
 * Subscriptions are copied on write, so (un)subscribing during an emit is safe and follows
 * EventTarget's rules: a listener added during an emit is first called on the next one, and a
 * listener removed during an emit is not called by it if it has not been already.
 */
export class EventChannel<T> {
  #subscriptions: ReadonlyArray<Subscription<T>> = [];

  get hasListeners(): boolean {
    return this.#subscriptions.length > 0;
  }

  subscribe(listener: Listener<T>): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`event listener must be a function, received ${formatValue(listener)}`);
    }
    const subscription: Subscription<T> = { listener, removed: false };
    this.#subscriptions = [...this.#subscriptions, subscription];
    return () => {
      if (subscription.removed) return;
      subscription.removed = true;
      this.#subscriptions = this.#subscriptions.filter((item) => item !== subscription);
    };
  }

  emit(event: T): void {
    const subscriptions = this.#subscriptions;
    for (let i = 0; i < subscriptions.length; i++) {
      const subscription = subscriptions[i]!;
      if (subscription.removed) continue;
      try {
        subscription.listener(event);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }
}
