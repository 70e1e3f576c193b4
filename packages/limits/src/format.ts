/** Milliseconds for an error message: `250 ms`, `1.5 s`, `never`. @internal */
export function formatMs(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return 'never';
  if (ms < 1000) return `${Math.ceil(ms)} ms`;
  return `${Math.round(ms / 100) / 10} s`;
}
