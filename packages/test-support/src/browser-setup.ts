/**
 * Setup file for test files run in a browser (vitest.browser.config.ts). The tests were written
 * for Node and use a few of its globals to watch the library from outside: `setImmediate` to let
 * pending callbacks run, and `process.on('unhandledRejection' | 'uncaughtException' | 'warning')`
 * to collect what escaped. The library itself uses none of them (its main entries are
 * browser-safe), so these test-only stand-ins change nothing it does:
 * - `setImmediate`/`clearImmediate` on a `MessageChannel` (a macrotask, like Node's);
 * - `process.on/off/once`: 'unhandledRejection' mapped to the window's `unhandledrejection`
 *   event; 'uncaughtException' and 'warning' never fire (the tests that watch uncaught errors
 *   listen to the window's `error` event themselves where there is one, and MaxListeners
 *   warnings are a Node concept).
 */

type Callback = (...args: unknown[]) => void;
const scope = globalThis as Record<string, unknown>;

if (typeof scope.setImmediate !== 'function') {
  const channel = new MessageChannel();
  const queue = new Map<number, () => void>();
  let next = 1;
  channel.port1.onmessage = (event: MessageEvent<number>) => {
    const run = queue.get(event.data);
    queue.delete(event.data);
    run?.();
  };
  scope.setImmediate = (callback: Callback, ...args: unknown[]): number => {
    const id = next++;
    queue.set(id, () => callback(...args));
    channel.port2.postMessage(id);
    return id;
  };
  scope.clearImmediate = (id: number): void => {
    queue.delete(id);
  };
}

if (scope.process === undefined) {
  const wrappers = new Map<Callback, EventListener>();
  const wrap = (event: string, listener: Callback): [string, EventListener] | undefined => {
    let wrapped = wrappers.get(listener);
    if (event === 'unhandledRejection') {
      wrapped ??= (e: Event) => listener((e as PromiseRejectionEvent).reason);
      wrappers.set(listener, wrapped);
      return ['unhandledrejection', wrapped];
    }
    return undefined; // 'uncaughtException', 'warning' and the rest: see above
  };
  const shim = {
    env: {} as Record<string, string>,
    on(event: string, listener: Callback) {
      const mapped = wrap(event, listener);
      if (mapped !== undefined) globalThis.addEventListener(mapped[0], mapped[1]);
      return shim;
    },
    off(event: string, listener: Callback) {
      const mapped = wrap(event, listener);
      if (mapped !== undefined) globalThis.removeEventListener(mapped[0], mapped[1]);
      wrappers.delete(listener);
      return shim;
    },
    once(event: string, listener: Callback) {
      const mapped = wrap(event, listener);
      if (mapped !== undefined) globalThis.addEventListener(mapped[0], mapped[1], { once: true });
      return shim;
    },
  };
  scope.process = shim;
}

export {};
