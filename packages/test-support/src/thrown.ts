/**
 * What `f` throws, or `undefined` when it returns: for a test that checks the error's class and
 * message in separate steps (`toThrow` checks one at a time and calls `f` again for each).
 */
export function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}
