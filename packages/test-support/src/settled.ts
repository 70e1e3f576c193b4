/**
 * Watches `promise` for a loop that drives it (moving virtual time, letting real I/O run):
 * `done` turns true once it settles, fulfilled or rejected. Nothing else is done with it.
 */
export function watchSettled(promise: Promise<unknown>): { readonly done: boolean } {
  const state = { done: false };
  const mark = () => {
    state.done = true;
  };
  promise.then(mark, mark);
  return state;
}
