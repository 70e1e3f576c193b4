import { afterAll, beforeAll, vi } from 'vitest';

/** Constructions counted by {@link countConstructions}: set both to 0 before what is measured. */
export interface Constructions {
  controllers: number;
  errors: number;
}

/**
 * Counts the AbortControllers and Errors the code under test constructs. In a beforeAll hook,
 * Vitest's module registry is reset and `load` imports the modules under test afresh with
 * AbortController and Error replaced by counting subclasses, so that a `class … extends Error`
 * inside them binds to the counting class. Error is restored once they are loaded (what bound
 * to it keeps counting, nothing else does); AbortController stays replaced until afterAll. Call
 * it at a test file's top level; `load` assigns the modules to the file's own variables.
 */
export function countConstructions(load: () => Promise<void>): Constructions {
  const counts: Constructions = { controllers: 0, errors: 0 };
  const OriginalAbortController = globalThis.AbortController;
  const OriginalError = globalThis.Error;
  class CountingAbortController extends OriginalAbortController {
    constructor() {
      super();
      counts.controllers++;
    }
  }
  class CountingError extends OriginalError {
    constructor(...args: ConstructorParameters<ErrorConstructor>) {
      super(...args);
      counts.errors++;
    }
  }
  beforeAll(async () => {
    vi.resetModules();
    globalThis.AbortController = CountingAbortController;
    globalThis.Error = CountingError as ErrorConstructor;
    try {
      await load();
    } finally {
      globalThis.Error = OriginalError;
    }
  });
  afterAll(() => {
    globalThis.AbortController = OriginalAbortController;
  });
  return counts;
}
