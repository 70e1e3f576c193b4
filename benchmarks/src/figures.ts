/** Shared plumbing for the stand-alone benchmark entry points (`retry.js`, `limits.js`, …). */
import { run } from 'mitata';

/** One mitata case's result: ns per iteration. */
export interface Figure {
  readonly name: string;
  readonly avgNs: number;
  readonly p50Ns: number;
}

/** Runs every case registered with mitata so far and returns its figures. */
export async function runRegistered(): Promise<Figure[]> {
  const { benchmarks } = await run({ format: 'quiet' });
  const figures: Figure[] = [];
  for (const trial of benchmarks) {
    const stats = trial.runs[0]?.stats;
    if (stats !== undefined)
      figures.push({ name: trial.alias, avgNs: stats.avg, p50Ns: stats.p50 });
  }
  return figures;
}

/** A figure as the entry points print it: the name padded to `width`, then avg and p50 in ns. */
export function figureLine(figure: Figure, width: number): string {
  return `${figure.name.padEnd(width)} avg ${figure.avgNs.toFixed(1).padStart(7)} ns   p50 ${figure.p50Ns.toFixed(1).padStart(7)} ns`;
}

/** Whether the module at `moduleUrl` is the script node was started with. */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && moduleUrl === new URL(`file://${script}`).href;
}

/** The median of `values` (the upper one of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * One line of a ratio against its target: the median of the per-round ratios, the rounds, and
 * `≤ target MET` / `MISSED` (nothing for a `NaN` target: a ratio printed for information).
 */
export function ratioLine(label: string, perRound: readonly number[], target: number): string {
  const value = median(perRound);
  const verdict = Number.isNaN(target)
    ? ''
    : value <= target
      ? `≤ ${target} MET`
      : `≤ ${target} MISSED`;
  return `${label} ${value.toFixed(2)}× (rounds ${perRound.map((r) => r.toFixed(2)).join(', ')}) ${verdict}`;
}
