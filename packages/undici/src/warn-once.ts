/**
 * A function that prints `message` with `console.warn` the first time it is called and does
 * nothing after that (once per process: the flag lives as long as the module). @internal
 */
export function warnOnce(message: string): () => void {
  let warned = false;
  return () => {
    if (warned) return;
    warned = true;
    console.warn(message);
  };
}
