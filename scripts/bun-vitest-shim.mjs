// Preloaded by scripts/test-runtimes.mjs into `bun test` (`--preload`): Bun maps the `vitest`
// import to `bun:test`, whose `vi` lacks vi.stubGlobal / vi.unstubAllGlobals. These two are
// added here with Vitest's own semantics (remember the original property descriptor on the first
// stub, define the stub as a plain writable property; restore or delete on unstub). Nothing else
// is changed, and nothing Bun already has is replaced.
import { vi } from 'bun:test';

const originals = new Map();

if (typeof vi.stubGlobal !== 'function') {
  vi.stubGlobal = (name, value) => {
    if (!originals.has(name)) {
      originals.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    }
    Object.defineProperty(globalThis, name, {
      value,
      writable: true,
      configurable: true,
      enumerable: true,
    });
    return vi;
  };
}

if (typeof vi.unstubAllGlobals !== 'function') {
  vi.unstubAllGlobals = () => {
    for (const [name, original] of originals) {
      if (original === undefined) Reflect.deleteProperty(globalThis, name);
      else Object.defineProperty(globalThis, name, original);
    }
    originals.clear();
    return vi;
  };
}
