/** Number formatting shared by the tables, the conclusions and the charts' notes. */

/** `value` with `digits` decimals, or an em dash when it is missing. */
export function num(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : value.toFixed(digits);
}

/** Milliseconds as seconds (`12.3 s`); `null` reads "never". */
export function secondsText(value: number | null | undefined): string {
  return value === null || value === undefined ? 'never' : `${(value / 1000).toFixed(1)} s`;
}

/** A share as a percentage (`97.1 %`). */
export function pct(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : `${(value * 100).toFixed(digits)} %`;
}

/** A ratio as a multiple (`2.3×`). */
export function times(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : `${value.toFixed(digits)}×`;
}

/** `a` relative to `b` in words: "35 % more", "12 % less", "the same". */
export function relative(a: number, b: number, more = 'more', less = 'less'): string {
  if (!(b !== 0) || !Number.isFinite(a / b)) return 'n/a';
  const change = a / b - 1;
  const percent = Math.round(Math.abs(change) * 100);
  if (percent === 0) return 'the same';
  return `${percent} % ${change > 0 ? more : less}`;
}

/** "a, b and c". */
export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * A high quantile with the number of samples behind it, because a p99.9 of fewer than 1 000
 * samples is not a p99.9 (nearest rank makes it the maximum): `182 ms (n = 412)`, or a dash
 * when there are none.
 */
export function quantileText(value: number | null | undefined, samples: number): string {
  if (value === null || value === undefined || !Number.isFinite(value) || samples === 0) return '—';
  return `${value.toFixed(0)} ms (n = ${samples})`;
}
