/**
 * The success path of every policy against a bare `await fn()`, on CPU time, in a way that
 * reproduces from run to run on a shared machine (performance.md, round 2: `timeout` ≤ 2.5× bare,
 * every other policy ≤ 1.5× bare).
 *
 * mitata's table (`pnpm bench`) times each case once, seconds apart, so the bare case it divides
 * by moves with whatever else the machine did meanwhile (127–208 ns on the same VM). Here every
 * sample is `calls` sequential awaited calls between two `process.cpuUsage()` readings (user +
 * system CPU of the process, so the GC and compiler threads' work is counted too), and every
 * policy sample sits next to a bare sample of its own, in both orders on alternate rounds: a
 * ratio is computed within a pair, never across the run. Many short rounds, case order rotated;
 * the figure of record is the median of the per-pair ratios, printed with its quartiles, its
 * extremes and the ratio of the summed CPU times (which counts the rare slow pairs the median
 * ignores: a scavenge lands in some samples and not others).
 *
 * Each case runs in a loop compiled for it alone (as mitata's are), so no case pays for a call
 * site the other cases made polymorphic.
 *
 * Run: `npx tsc -b benchmarks && nice -n 10 node benchmarks/dist/success-path.js` (or `pnpm
 * bench:success-path`), with `--rounds n` (default 31), `--calls n` (default 20 000 per sample),
 * `--only a,b` (case ids), `--tight` (no `async` body around each call), `--wall` (hrtime instead
 * of CPU time), `--json` (results/success-path.json), and `--baseline <dir>`: the same cases built
 * from another checkout (`<dir>/benchmarks/dist/success-path.js`, built there), each sampled
 * beside ours in the same rounds (bare, ours and theirs in all six orders): prints both ratios to
 * bare and ours / theirs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  adaptiveThrottle,
  circuitBreaker,
  consecutiveFailures,
  failureRate,
} from '@faultline/breaker';
import { chaosFault } from '@faultline/chaos';
import { bulkhead, type Context, fallback, noop, pipeline } from '@faultline/core';
import { hedge } from '@faultline/hedge';
import { concurrencyLimit, gradient2, rateLimiter, tokenBucket } from '@faultline/limits';
import { exponential, retry } from '@faultline/retry';
import { timeout } from '@faultline/timeout';
import { isMainModule } from './figures.js';

const fn = async (): Promise<void> => {};
const readsSignal = async (ctx: Context): Promise<void> => {
  if (ctx.signal.aborted) throw new Error('unreachable');
};

const passValue = <T>(value: T): T => value;
const rethrow = (error: unknown): never => {
  throw error;
};

/** One success-path case: built once, called `calls` times per sample. */
export interface SuccessCase {
  readonly id: string;
  readonly label: string;
  /** Maximum ratio to bare (performance.md); `NaN`: printed for information. */
  readonly target: number;
  make(): { call: () => Promise<unknown>; close?: () => void };
}

const policyCase = (
  id: string,
  label: string,
  target: number,
  build: () => { execute(task: (ctx: Context) => Promise<void>): Promise<unknown> },
  task: (ctx: Context) => Promise<void> = fn,
): SuccessCase => ({
  id,
  label,
  target,
  make: () => {
    const policy = build();
    return { call: () => policy.execute(task) };
  },
});

/** The cases, bare first. Policies are built once and reused, as in production. */
export function successPathCases(): SuccessCase[] {
  return [
    { id: 'bare', label: 'bare await fn()', target: Number.NaN, make: () => ({ call: fn }) },
    // Floors: a policy's plumbing (noop) and one promise hop (a static `then`, as a breaker's).
    policyCase('noop', 'noop policy (execute + Promise.resolve)', Number.NaN, () => noop),
    {
      id: 'floor-then',
      label: 'floor: fn().then(static handlers)',
      target: Number.NaN,
      make: () => ({ call: () => fn().then(passValue, rethrow) }),
    },
    policyCase('timeout', 'timeout(1000), fn ignores signal', 2.5, () => timeout(1000)),
    policyCase('timeout-cooperative', 'timeout(1000, cooperative)', 2.5, () =>
      timeout(1000, { strategy: 'cooperative' }),
    ),
    policyCase(
      'timeout-signal',
      'timeout(1000), fn reads ctx.signal',
      Number.NaN,
      () => timeout(1000),
      readsSignal,
    ),
    policyCase('retry', 'retry({ maxAttempts: 3 })', 1.5, () =>
      retry({ maxAttempts: 3, backoff: exponential() }),
    ),
    policyCase('breaker-consecutive', 'circuitBreaker consecutiveFailures(5)', 1.5, () =>
      circuitBreaker({ trip: consecutiveFailures(5), breakDuration: 10_000 }),
    ),
    policyCase('breaker-rate', 'circuitBreaker failureRate (30 s window)', 1.5, () =>
      circuitBreaker({
        trip: failureRate({ threshold: 0.2, window: 30_000 }),
        breakDuration: 10_000,
      }),
    ),
    policyCase('throttle', 'adaptiveThrottle()', 1.5, () => adaptiveThrottle()),
    policyCase('bulkhead', 'bulkhead({ limit: 100 })', 1.5, () => bulkhead({ limit: 100 })),
    policyCase('fallback', 'fallback({ fallback: () => undefined })', 1.5, () =>
      fallback({ fallback: () => undefined }),
    ),
    policyCase('hedge', 'hedge() (first attempt wins)', 1.5, () => hedge()),
    policyCase('chaos-disabled', 'chaosFault({ enabled: false })', 1.5, () =>
      chaosFault({ fault: new Error('never'), enabled: false }),
    ),
    policyCase('rate-limiter', 'rateLimiter(tokenBucket), memory', 1.5, () =>
      rateLimiter({ limit: tokenBucket({ rate: 1e12, burst: 1e9 }) }),
    ),
    policyCase('concurrency-limit', 'concurrencyLimit(gradient2())', Number.NaN, () =>
      concurrencyLimit({ limit: gradient2({ max: 1000 }) }),
    ),
    policyCase('pipeline', 'pipeline(timeout, retry, breaker, timeout)', Number.NaN, () =>
      pipeline(
        timeout(10_000),
        retry({ maxAttempts: 3, backoff: exponential() }),
        circuitBreaker({ trip: consecutiveFailures(5), breakDuration: 10_000 }),
        timeout(1000),
      ),
    ),
  ];
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (call: () => Promise<unknown>, n: number) => Promise<void>;

/** A sampler of its own: a loop compiled for one case (one call site, one feedback vector). */
interface Sampler {
  readonly id: string;
  /** CPU (or wall) ns per call over `n` sequential awaited calls. */
  sample(n: number): Promise<number>;
  close(): void;
}

function sampler(
  id: string,
  made: ReturnType<SuccessCase['make']>,
  wall: boolean,
  tight: boolean,
): Sampler {
  const loop = new AsyncFunction('call', 'n', 'for (let i = 0; i < n; i++) await call();');
  // A fresh copy of the wrapper's source per case, so that its call site is the case's own.
  const call = tight
    ? made.call
    : (
        new Function('call', 'return async () => {\n  await call();\n};') as (
          call: () => Promise<unknown>,
        ) => () => Promise<unknown>
      )(made.call);
  return {
    id,
    async sample(n) {
      if (wall) {
        const start = process.hrtime.bigint();
        await loop(call, n);
        return Number(process.hrtime.bigint() - start) / n;
      }
      const before = process.cpuUsage();
      await loop(call, n);
      const used = process.cpuUsage(before);
      return ((used.user + used.system) * 1000) / n;
    },
    close: () => made.close?.(),
  };
}

const PERMUTATIONS: Record<number, number[][]> = {
  2: [
    [0, 1],
    [1, 0],
  ],
  3: [
    [0, 1, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
    [1, 0, 2],
    [0, 2, 1],
  ],
};

/** The `q` quantile of `values` (nearest rank). */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/** Ratios of one comparison over a run. */
export interface Spread {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  readonly min: number;
  readonly max: number;
  /** Sum of the numerator samples over sum of the denominator samples. */
  readonly ofTotals: number;
}

function spread(numerators: readonly number[], denominators: readonly number[]): Spread {
  const ratios = numerators.map((value, i) => value / denominators[i]!);
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
  return {
    median: quantile(ratios, 0.5),
    p25: quantile(ratios, 0.25),
    p75: quantile(ratios, 0.75),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    ofTotals: sum(numerators) / sum(denominators),
  };
}

export interface SuccessPathRow {
  readonly id: string;
  readonly label: string;
  readonly target: number;
  /** Median CPU ns per call of the case, and of the bare samples beside it. */
  readonly ns: number;
  readonly bareNs: number;
  readonly xBare: Spread;
  readonly met?: boolean;
  /** With a baseline: its ns, its ratio to bare, and ours / theirs. */
  readonly baseline?: {
    readonly ns: number;
    readonly xBare: Spread;
    readonly oursOverTheirs: Spread;
  };
}

export interface SuccessPathOptions {
  readonly rounds?: number;
  readonly calls?: number;
  readonly only?: readonly string[];
  readonly wall?: boolean;
  /**
   * Each sample loops `await call()` directly. Default: `await body()`, where `body` is
   * `async () => { await call(); }`, as in `pnpm bench` (mitata's table).
   */
  readonly tight?: boolean;
  /** Cases built from another checkout, matched by id. */
  readonly baseline?: readonly SuccessCase[];
}

/**
 * Runs the interleaved rounds. Each round visits every case (rotated order) and samples it beside
 * a bare sample of its own (and the baseline's build of it), the slots in every order in turn.
 */
export async function runSuccessPath(options: SuccessPathOptions = {}): Promise<SuccessPathRow[]> {
  const rounds = options.rounds ?? 31;
  const calls = options.calls ?? 20_000;
  const wall = options.wall === true;
  const tight = options.tight === true;
  const all = successPathCases();
  const bareCase = all[0]!;
  const chosen = all.filter(
    (c) => c.id !== 'bare' && (options.only === undefined || options.only.includes(c.id)),
  );
  const theirs = new Map((options.baseline ?? []).map((c) => [c.id, c]));
  interface Entry {
    readonly c: SuccessCase;
    readonly bare: Sampler;
    readonly ours: Sampler;
    readonly theirs: Sampler | undefined;
    readonly samples: { bare: number[]; ours: number[]; theirs: number[] };
  }
  const entries: Entry[] = chosen.map((c) => {
    const base = theirs.get(c.id);
    return {
      c,
      // A bare loop per case: each pair's bare sample runs as warm a loop as the case beside it.
      bare: sampler('bare', bareCase.make(), wall, tight),
      ours: sampler(c.id, c.make(), wall, tight),
      theirs:
        base === undefined ? undefined : sampler(`${c.id} (baseline)`, base.make(), wall, tight),
      samples: { bare: [], ours: [], theirs: [] },
    };
  });
  // Warm-up: every loop runs long enough for the optimizing compiler to settle on it.
  for (const entry of entries) {
    for (const s of [entry.bare, entry.ours, entry.theirs]) {
      if (s !== undefined) for (let k = 0; k < 5; k++) await s.sample(Math.min(calls, 10_000));
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < entries.length; k++) {
      const entry = entries[(k + round) % entries.length]!;
      const slots: Array<[Sampler, number[]]> = [
        [entry.bare, entry.samples.bare],
        [entry.ours, entry.samples.ours],
      ];
      if (entry.theirs !== undefined) slots.push([entry.theirs, entry.samples.theirs]);
      // Every order of the slots in turn: (bare, ours) and (ours, bare); with a baseline, all six.
      const perm = PERMUTATIONS[slots.length]![round % PERMUTATIONS[slots.length]!.length]!;
      const ordered = perm.map((i) => slots[i]!);
      for (const [s, into] of ordered) {
        // Back to the event loop between samples, as a server is between requests: timers and
        // setImmediate callbacks the policies scheduled run, outside any sample.
        await new Promise((done) => setImmediate(done));
        into.push(await s.sample(calls));
      }
    }
  }
  for (const entry of entries) {
    entry.bare.close();
    entry.ours.close();
    entry.theirs?.close();
  }
  return entries.map(({ c, samples }) => {
    const xBare = spread(samples.ours, samples.bare);
    const row: {
      -readonly [K in keyof SuccessPathRow]: SuccessPathRow[K];
    } = {
      id: c.id,
      label: c.label,
      target: c.target,
      ns: quantile(samples.ours, 0.5),
      bareNs: quantile(samples.bare, 0.5),
      xBare,
    };
    if (!Number.isNaN(c.target)) row.met = xBare.median <= c.target;
    if (samples.theirs.length > 0) {
      row.baseline = {
        ns: quantile(samples.theirs, 0.5),
        xBare: spread(samples.theirs, samples.bare),
        oursOverTheirs: spread(samples.ours, samples.theirs),
      };
    }
    return row;
  });
}

const fmt = (s: Spread): string =>
  `${s.median.toFixed(2)}× [${s.p25.toFixed(2)}–${s.p75.toFixed(2)}; ${s.min.toFixed(2)}–${s.max.toFixed(2)}] tot ${s.ofTotals.toFixed(2)}×`;

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`;
  }
}

if (isMainModule(import.meta.url)) {
  const flag = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const rounds = Number(flag('--rounds') ?? 31);
  const calls = Number(flag('--calls') ?? 20_000);
  const only = flag('--only')?.split(',');
  const wall = process.argv.includes('--wall');
  const tight = process.argv.includes('--tight');
  const baselineDir = flag('--baseline');
  let baseline: SuccessCase[] | undefined;
  if (baselineDir !== undefined) {
    const url = pathToFileURL(resolve(baselineDir, 'benchmarks/dist/success-path.js')).href;
    baseline = ((await import(url)) as { successPathCases(): SuccessCase[] }).successPathCases();
  }
  const loadBefore = uptime();
  const rows = await runSuccessPath({
    rounds,
    calls,
    wall,
    tight,
    ...(only === undefined ? {} : { only }),
    ...(baseline === undefined ? {} : { baseline }),
  });
  const loadAfter = uptime();
  console.log(
    `node ${process.version}; ${wall ? 'wall' : 'CPU'} time; ${tight ? 'await call() in a loop' : 'await (async () => { await call(); })(), as pnpm bench'}; ${rounds} rounds × ${calls} calls per sample, each case beside a bare sample of its own`,
  );
  console.log(`load before: ${loadBefore}\nload after:  ${loadAfter}`);
  console.log(
    '×bare: median of per-pair ratios [p25–p75; min–max] and the ratio of summed CPU times\n',
  );
  for (const row of rows) {
    const verdict = row.met === undefined ? '' : `(≤ ${row.target}×) ${row.met ? 'MET' : 'MISSED'}`;
    console.log(
      `${row.label.padEnd(44)} ${row.ns.toFixed(1).padStart(7)} ns (bare ${row.bareNs.toFixed(1).padStart(6)})  ×bare ${fmt(row.xBare)} ${verdict}`,
    );
    if (row.baseline !== undefined) {
      console.log(
        `${'  baseline'.padEnd(44)} ${row.baseline.ns.toFixed(1).padStart(7)} ns                ×bare ${fmt(row.baseline.xBare)}`,
      );
      console.log(`${'  ours / baseline'.padEnd(44)} ${fmt(row.baseline.oursOverTheirs)}`);
    }
  }
  if (process.argv.includes('--json')) {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = join(here, '..', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'success-path.json'),
      `${JSON.stringify({ node: process.version, date: new Date().toISOString(), wall, rounds, calls, loadBefore, loadAfter, rows }, null, 2)}\n`,
    );
  }
  // Timer queues and breakers leave unref'd or background timers: nothing to wait for.
  process.exit(0);
}
