/**
 * Milliseconds for a message: integers as they are, fractions rounded to a tenth of a
 * millisecond (`4999.314952000001` reads `4999.3`). Clocks read fractional milliseconds
 * (`performance.now()`); nobody acts on the digits past the first decimal.
 */
export function formatMs(ms: number): string {
  if (Number.isInteger(ms) || !Number.isFinite(ms)) return String(ms);
  return String(Math.round(ms * 10) / 10);
}
