/** Shared plumbing for the stand-alone benchmark entry points (`retry.js`, `failure-detector.js`). */
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

/** Whether the module at `moduleUrl` is the script node was started with. */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && moduleUrl === new URL(`file://${script}`).href;
}
