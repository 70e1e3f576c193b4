/**
 * Success-path cost of `@faultline/breaker` (performance.md: every policy's success path ≤ 1.5×
 * a bare `await fn()`): `circuitBreaker` with `consecutiveFailures` and with a time-window
 * `failureRate`, and `adaptiveThrottle` with its defaults, each built once and reused.
 *
 * `--baseline <dir>` adds the same three cases built from another checkout's
 * `<dir>/packages/breaker/dist/index.js` (say main before a change: extract it, install, then
 * `npx tsc -b packages/breaker` there), so a change is measured against its parent in one process.
 * Rounds are interleaved (each round runs every case once, in a rotated order) and the ratios of
 * each round are computed within it; the median round is the figure of record.
 *
 * Run: `npx tsc -b benchmarks && nice -n 10 node benchmarks/dist/breaker.js [--rounds 5]
 * [--baseline <dir>]`
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as breaker from '@faultline/breaker';
import { bench, group } from 'mitata';
import { type Figure, isMainModule, runRegistered } from './figures.js';

type BreakerModule = Pick<
  typeof breaker,
  'circuitBreaker' | 'consecutiveFailures' | 'failureRate' | 'adaptiveThrottle'
>;

const fn = async (): Promise<void> => {};

/** The three success-path calls of one build of the package. */
function makeCases(lib: BreakerModule): Record<string, () => Promise<unknown>> {
  const consecutive = lib.circuitBreaker({
    trip: lib.consecutiveFailures(5),
    breakDuration: 10_000,
  });
  const rate = lib.circuitBreaker({
    trip: lib.failureRate({ threshold: 0.2, window: 30_000 }),
    breakDuration: 10_000,
  });
  const throttle = lib.adaptiveThrottle();
  return {
    'circuitBreaker consecutive': () => consecutive.execute(fn),
    'circuitBreaker failureRate (time window)': () => rate.execute(fn),
    'adaptiveThrottle (defaults)': () => throttle.execute(fn),
  };
}

const BARE = 'bare await fn()';

async function main(): Promise<void> {
  const roundsArg = process.argv.indexOf('--rounds');
  const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;
  const baselineArg = process.argv.indexOf('--baseline');
  const bodies: Record<string, () => Promise<unknown>> = { [BARE]: fn };
  for (const [name, body] of Object.entries(makeCases(breaker))) bodies[name] = body;
  const ours = Object.keys(bodies).filter((name) => name !== BARE);
  if (baselineArg > 0) {
    const dir = process.argv[baselineArg + 1]!;
    const url = pathToFileURL(resolve(dir, 'packages/breaker/dist/index.js')).href;
    const base = (await import(url)) as BreakerModule;
    for (const [name, body] of Object.entries(makeCases(base))) bodies[`baseline ${name}`] = body;
  }
  const names = Object.keys(bodies);
  const all: Figure[][] = [];
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    group(`breaker success path, round ${round + 1}`, () => {
      for (const name of order) {
        const body = bodies[name]!;
        bench(name, async () => {
          await body();
        });
      }
    });
    all.push(await runRegistered());
  }
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  // Averages are the figures of record; medians per iteration (p50) resist the GC pauses and
  // neighbours of a shared machine, so both are printed.
  for (const stat of ['avgNs', 'p50Ns'] as const) {
    const figure = (round: Figure[], name: string) => round.find((f) => f.name === name)![stat];
    console.log(
      `\nnode ${process.version}, ${rounds} interleaved rounds, ${stat === 'avgNs' ? 'avg' : 'p50'} ns; medians of per-round figures`,
    );
    for (const name of names) {
      const perRound = all.map((round) => figure(round, name) / figure(round, BARE));
      const ns = median(all.map((round) => figure(round, name)));
      const verdict = name === BARE ? '' : median(perRound) <= 1.5 ? '≤ 1.5 MET' : '≤ 1.5 MISSED';
      console.log(
        `${name.padEnd(52)} ${ns.toFixed(1).padStart(7)} ns   ×bare ${median(perRound).toFixed(2)} (rounds ${perRound.map((r) => r.toFixed(2)).join(', ')}) ${verdict}`,
      );
    }
    if (baselineArg > 0) {
      for (const name of ours) {
        const perRound = all.map(
          (round) => figure(round, name) / figure(round, `baseline ${name}`),
        );
        console.log(
          `${`${name} / baseline`.padEnd(52)} ${median(perRound).toFixed(2)}× (rounds ${perRound.map((r) => r.toFixed(2)).join(', ')})`,
        );
      }
    }
  }
}

if (isMainModule(import.meta.url)) await main();
