import { checkOneOf, formatValue, seededRandom } from '@faultline/core';
import {
  createLease,
  FencedOutError,
  type FenceGuard,
  fenceGuard,
  type HeldLease,
  LeaseUnavailableError,
  memoryLeaseStore,
} from '@faultline/lease';
import { lognormal, uniform } from '../distribution.js';
import type { SimClock, SimulationRun } from '../engine.js';
import { barChart } from '../report/svg.js';
import { defineScenario, type Table } from './definition.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import { round, runSeed } from './service.js';
import { variantOutcomes, variantRuns } from './variants.js';

/**
 * The lease-pause model (specs/lease.md, "Proof"): Jepsen's lock-set workload with a pause
 * nemesis, on the real `@faultline/lease`. `clients` clients share one lease (a
 * `memoryLeaseStore` on the simulator's clock) and one register in a storage service. Each loops:
 * acquire the lease (`acquire({ wait })`: the lease polls the store with its default
 * `retryInterval`, never past the holder's remaining lease), read the register, think, check
 * `held.remaining() > 0`, write the value read + 1, release, wait `gap`.
 * Between the validity check and the write, with probability `pause.probability`, the client
 * pauses (GC, VM suspension) for lognormal(median 300 ms, σ 1.0): 11.5 % of pauses last longer
 * than the 1 s ttl. At `duration` the nemesis heals: paused clients resume at once, clients
 * finish the iteration they are in (in-flight writes land) and stop; then the register is read.
 */
export const leasePauseModel = {
  clients: 5,
  /** How long clients start new iterations (ms); then the heal, and the final read. */
  duration: 2_000,
  /** The lease's ttl (ms); maxDrift and safetyMargin are the lease's defaults (0.001, 100 ms). */
  ttl: 1_000,
  /** One-way delay between a client and the storage (ms), per message. */
  storage: { min: 1, max: 3 },
  /** Think time between the read and the write (ms). */
  think: { min: 10, max: 30 },
  /** Wait after releasing before the next acquire (ms): lets the other clients in. */
  gap: { min: 0, max: 20 },
  pause: { probability: 0.02, median: 300, sigma: 1.0 },
  /** Simulated time allowed after the heal for in-flight iterations to finish (ms). */
  drain: 1_000,
} as const;

/**
 * The storage variants: `unfenced` (the storage ignores tokens: DDIA's unsafe loop),
 * `fenced-writes` (a `fenceGuard` on writes only) and `fenced` (a `fenceGuard` on every access,
 * reads included).
 */
export const leasePauseVariants = ['unfenced', 'fenced-writes', 'fenced'] as const;
export type LeasePauseVariant = (typeof leasePauseVariants)[number];

/** What one run measured. */
export interface LeasePauseRun {
  /** Writes the storage accepted and acknowledged to their client. */
  readonly acknowledged: number;
  /** The register's value at the final read. */
  readonly final: number;
  /** Writes accepted with a token lower than the highest the storage had seen (any access). */
  readonly staleWritesAccepted: number;
  readonly staleWritesRejected: number;
  /** Reads rejected by the fence (`fenced` only). */
  readonly staleReadsRejected: number;
  readonly pauses: number;
  /** Pauses that outlasted the lease in the store (the holder resumed with an expired lease). */
  readonly pausesPastExpiry: number;
  /** Leases granted (tokens issued). */
  readonly grants: number;
}

const resource = 'register';

/**
 * The storage service holding the register: it applies each access when the request arrives
 * (after one network delay) and answers after another. It records the highest token presented by
 * any access to count stale writes, whatever the variant checks.
 */
class Storage {
  value = 0;
  #highest = -1n;
  staleWritesAccepted = 0;
  staleWritesRejected = 0;
  staleReadsRejected = 0;
  readonly #readGuard: FenceGuard | undefined;
  readonly #writeGuard: FenceGuard | undefined;

  constructor(
    private readonly clock: SimClock,
    private readonly delay: () => number,
    variant: LeasePauseVariant,
  ) {
    const guard = variant === 'unfenced' ? undefined : fenceGuard();
    this.#writeGuard = guard;
    this.#readGuard = variant === 'fenced' ? guard : undefined;
  }

  #saw(token: bigint): void {
    if (token > this.#highest) this.#highest = token;
  }

  async read(token: bigint): Promise<number> {
    await this.clock.sleep(this.delay());
    let value: number;
    try {
      value =
        this.#readGuard === undefined
          ? this.value
          : await this.#readGuard.read(token, () => this.value);
    } catch (error) {
      if (error instanceof FencedOutError) this.staleReadsRejected++;
      await this.clock.sleep(this.delay());
      throw error;
    }
    this.#saw(token);
    await this.clock.sleep(this.delay());
    return value;
  }

  /** Writes `value`; resolves true when accepted, false when the fence rejected it. */
  async write(token: bigint, value: number): Promise<boolean> {
    await this.clock.sleep(this.delay());
    const stale = token < this.#highest;
    let accepted = true;
    if (this.#writeGuard === undefined) {
      this.value = value;
    } else {
      try {
        await this.#writeGuard.write(token, () => {
          this.value = value;
        });
      } catch (error) {
        if (!(error instanceof FencedOutError)) throw error;
        accepted = false;
      }
    }
    if (accepted) {
      if (stale) this.staleWritesAccepted++;
      this.#saw(token);
    } else {
      this.staleWritesRejected++;
    }
    await this.clock.sleep(this.delay());
    return accepted;
  }
}

/** One run of one variant. */
function leasePauseRun(variant: LeasePauseVariant, seed: number): SimulationRun<LeasePauseRun> {
  const m = leasePauseModel;
  return {
    setup(clock) {
      const network = seededRandom(runSeed(seed, 1));
      const storageDelay = uniform(m.storage.min, m.storage.max);
      const storage = new Storage(clock, () => storageDelay.sample(network), variant);
      const store = memoryLeaseStore({ clock });
      const think = uniform(m.think.min, m.think.max);
      const gap = uniform(m.gap.min, m.gap.max);
      const pauseLength = lognormal({ median: m.pause.median, sigma: m.pause.sigma });
      let healed = false;
      // Paused clients: the heal resumes them at once.
      const paused = new Set<() => void>();
      let acknowledged = 0;
      let pauses = 0;
      let pausesPastExpiry = 0;
      let grants = 0;
      let running = m.clients;
      let final: number | undefined;
      let failure: unknown;

      const pause = (ms: number): Promise<void> =>
        new Promise((resolve) => {
          const resume = (): void => {
            paused.delete(resume);
            cancel();
            resolve();
          };
          const cancel = clock.setTimer(ms, resume);
          paused.add(resume);
        });

      const client = async (index: number): Promise<void> => {
        // Each client draws from its own stream, so that the variants see the same draws for as
        // long as their histories agree.
        const random = seededRandom(runSeed(seed, 2, index));
        const lease = createLease({
          store,
          resource,
          ttl: m.ttl,
          clock,
          owner: `client-${index}`,
          random: seededRandom(runSeed(seed, 3, index)),
        });
        while (clock.now() < m.duration) {
          let held: HeldLease;
          try {
            // Wait for the lease until the nemesis heals (the lease polls the store, never past
            // the holder's remaining lease).
            held = await lease.acquire({ wait: m.duration - clock.now() });
          } catch (error) {
            if (error instanceof LeaseUnavailableError) break;
            throw error;
          }
          grants++;
          const acquiredAt = clock.now();
          try {
            const value = await storage.read(held.token);
            await clock.sleep(think.sample(random));
            // DDIA's check: still valid locally? Then write, with nothing in between to stop a
            // pause.
            if (held.remaining() > 0) {
              if (!healed && random() < m.pause.probability) {
                pauses++;
                await pause(pauseLength.sample(random));
                if (clock.now() >= acquiredAt + m.ttl) pausesPastExpiry++;
              }
              if (await storage.write(held.token, value + 1)) acknowledged++;
            }
          } catch (error) {
            // A fenced read: a newer holder has acted; start over.
            if (!(error instanceof FencedOutError)) throw error;
          } finally {
            // Release acts only for the owner and token: after a takeover it changes nothing.
            await held.release();
          }
          await clock.sleep(gap.sample(random));
        }
        if (--running === 0) final = storage.value;
      };

      clock.setTimer(m.duration, () => {
        healed = true;
        for (const resume of [...paused]) resume();
      });
      for (let i = 0; i < m.clients; i++) {
        client(i).catch((error: unknown) => {
          // A bug, not an outcome: surfaces as the run's result error.
          final = Number.NaN;
          failure = error;
        });
      }
      return {
        until: m.duration + m.drain,
        result: () => {
          if (failure !== undefined) throw failure;
          if (final === undefined) {
            throw new Error(`lease-pause: ${running} clients still running after the drain`);
          }
          if (final > acknowledged) {
            throw new Error(`lease-pause: final value ${final} > ${acknowledged} acknowledged`);
          }
          return {
            acknowledged,
            final,
            staleWritesAccepted: storage.staleWritesAccepted,
            staleWritesRejected: storage.staleWritesRejected,
            staleReadsRejected: storage.staleReadsRejected,
            pauses,
            pausesPastExpiry,
            grants,
          };
        },
      };
    },
  };
}

/**
 * One variant's results over every run (the `--json` fields, then the report's extras).
 * @inline
 */
export interface LeasePauseResult {
  readonly variant: LeasePauseVariant;
  readonly runs: number;
  /** Runs whose final value is below their acknowledged increments. */
  readonly runsWithLostUpdates: number;
  /** Acknowledged increments missing from the final value, summed over the runs. */
  readonly lostUpdates: number;
  readonly staleWritesAccepted: number;
  readonly staleWritesRejected: number;
  /** Reads the fence rejected (`fenced` only). */
  readonly staleReadsRejected: number;
  readonly acknowledged: number;
  readonly grants: number;
  readonly pauses: number;
  readonly pausesPastExpiry: number;
}

export interface LeasePauseReport {
  readonly scenario: 'lease-pause';
  readonly seed: number;
  readonly runs: number;
  readonly model: typeof leasePauseModel;
  readonly results: readonly LeasePauseResult[];
}

/** `faultline-sim lease-pause --json` (spec lease.md). */
export interface LeasePauseJson {
  readonly scenario: 'lease-pause';
  readonly seed: number;
  readonly runs: number;
  readonly results: ReadonlyArray<
    Pick<
      LeasePauseResult,
      | 'variant'
      | 'runs'
      | 'runsWithLostUpdates'
      | 'lostUpdates'
      | 'staleWritesAccepted'
      | 'staleWritesRejected'
    >
  >;
}

/** Options of the `lease-pause` scenario. */
export interface LeasePauseOptions extends ScenarioOptions {
  /** The variants to compare. Default all of {@link leasePauseVariants}. */
  readonly variants?: readonly LeasePauseVariant[];
}

/**
 * `lease-pause`: {@link leasePauseModel}, `runs` seeds per variant (run i of every variant uses
 * the same seed).
 */
export function planLeasePause(
  options: LeasePauseOptions = {},
): ScenarioPlan<LeasePauseRun, LeasePauseReport> {
  const { seed, runs } = scenarioDefaults('planLeasePause', options, 10_000);
  const variants = options.variants ?? leasePauseVariants;
  if (!Array.isArray(variants) || variants.length === 0) {
    throw new TypeError(
      `planLeasePause: option "variants" must be a non-empty array of ${leasePauseVariants.join(', ')}, received ${formatValue(variants)}`,
    );
  }
  for (const variant of variants) {
    checkOneOf('planLeasePause', 'variants', variant, leasePauseVariants);
  }
  const specs = variantRuns(variants, runs, (variant, run) =>
    leasePauseRun(variant, runSeed(seed, run)),
  );
  return {
    specs,
    aggregate: (outcomes) => ({
      scenario: 'lease-pause',
      seed,
      runs,
      model: leasePauseModel,
      results: variants.map((variant, v): LeasePauseResult => {
        const mine = variantOutcomes(outcomes, v, runs);
        const sum = (key: keyof LeasePauseRun): number =>
          mine.reduce((total, run) => total + run[key], 0);
        return {
          variant,
          runs,
          runsWithLostUpdates: mine.filter((run) => run.final < run.acknowledged).length,
          lostUpdates: sum('acknowledged') - sum('final'),
          staleWritesAccepted: sum('staleWritesAccepted'),
          staleWritesRejected: sum('staleWritesRejected'),
          staleReadsRejected: sum('staleReadsRejected'),
          acknowledged: sum('acknowledged'),
          grants: sum('grants'),
          pauses: sum('pauses'),
          pausesPastExpiry: sum('pausesPastExpiry'),
        };
      }),
    }),
  };
}

/** Runs {@link planLeasePause} in this thread. */
export function runLeasePause(options: LeasePauseOptions = {}): Promise<LeasePauseReport> {
  return runPlan(planLeasePause(options), options.simulate);
}

/** The published `--json` shape of a `lease-pause` report. */
export function leasePauseJson(report: LeasePauseReport): LeasePauseJson {
  return {
    scenario: 'lease-pause',
    seed: report.seed,
    runs: report.runs,
    results: report.results.map((r) => ({
      variant: r.variant,
      runs: r.runs,
      runsWithLostUpdates: r.runsWithLostUpdates,
      lostUpdates: r.lostUpdates,
      staleWritesAccepted: r.staleWritesAccepted,
      staleWritesRejected: r.staleWritesRejected,
    })),
  };
}

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
const share = (part: number, whole: number): string =>
  whole === 0 ? '—' : `${((part / whole) * 100).toFixed(2)} %`;

/** The summary table of a `lease-pause` report. */
export function leasePauseTable(report: LeasePauseReport): Table {
  return {
    title: `lease-pause: ${report.model.clients} clients increment a register under a ${report.model.ttl} ms lease and a pause nemesis (${report.runs} runs of ${report.model.duration / 1000} s per variant)`,
    columns: [
      'variant',
      'runs with lost updates',
      'lost updates',
      'acknowledged',
      'stale writes accepted',
      'stale writes rejected',
      'pauses past expiry',
    ],
    rows: report.results.map((r) => [
      r.variant,
      `${r.runsWithLostUpdates} (${share(r.runsWithLostUpdates, r.runs)})`,
      String(r.lostUpdates),
      String(r.acknowledged),
      String(r.staleWritesAccepted),
      String(r.staleWritesRejected),
      String(r.pausesPastExpiry),
    ]),
  };
}

/** The measured conclusions of a `lease-pause` report, in plain sentences. */
export function leasePauseConclusions(report: LeasePauseReport): string[] {
  const by = new Map(report.results.map((r) => [r.variant, r]));
  const out: string[] = [];
  const unfenced = by.get('unfenced');
  const writes = by.get('fenced-writes');
  const fenced = by.get('fenced');
  if (unfenced !== undefined) {
    out.push(
      `A lease alone is not mutual exclusion: checking remaining() > 0 before writing, ${count(unfenced.runsWithLostUpdates, 'run')} of ${unfenced.runs} (${share(unfenced.runsWithLostUpdates, unfenced.runs)}) lost acknowledged increments (${unfenced.lostUpdates} in all). ${count(unfenced.pausesPastExpiry, 'pause')} outlasted the lease between a holder's check and its write: another client took the lease over, and the paused holder's write landed anyway (${count(unfenced.staleWritesAccepted, 'stale write')} accepted).`,
    );
  }
  if (writes !== undefined) {
    out.push(
      `Fencing writes only rejected ${count(writes.staleWritesRejected, 'stale write')} but still lost updates in ${count(writes.runsWithLostUpdates, 'run')} (${share(writes.runsWithLostUpdates, writes.runs)}): the new holder read, the paused holder's write landed before the new holder's own (the storage had seen no higher token on a write), and the new holder wrote back a value computed from its now stale read.`,
    );
  }
  if (fenced !== undefined) {
    out.push(
      `Fencing every access, reads included (a read records its token), lost ${fenced.lostUpdates} updates and accepted ${count(fenced.staleWritesAccepted, 'stale write')} in ${fenced.runs} runs; it rejected ${count(fenced.staleWritesRejected, 'stale write')}.`,
    );
  }
  return out;
}

/** The charts of a `lease-pause` report. */
export function leasePauseCharts(report: LeasePauseReport): string[] {
  return [
    barChart({
      title: `Runs that lost acknowledged increments (% of ${report.runs} runs)`,
      yLabel: 'runs with lost updates (%)',
      bars: report.results.map((r) => ({
        label: r.variant,
        value: round((r.runsWithLostUpdates / r.runs) * 100, 2),
      })),
    }),
    barChart({
      title: 'Writes accepted with a token lower than one the storage had seen',
      yLabel: 'stale writes accepted',
      bars: report.results.map((r) => ({ label: r.variant, value: r.staleWritesAccepted })),
    }),
  ];
}

/** `faultline-sim lease-pause`: see {@link leasePauseModel}. */
export const leasePauseScenario = defineScenario({
  name: 'lease-pause',
  title: 'Leases under process pauses: fencing tokens (Jepsen lock-set, pause nemesis)',
  description: `${leasePauseModel.clients} clients loop on the real @faultline/lease (memoryLeaseStore, ttl ${leasePauseModel.ttl} ms, default drift and safety margin): acquire, read a shared register (storage ${leasePauseModel.storage.min}–${leasePauseModel.storage.max} ms away), think ${leasePauseModel.think.min}–${leasePauseModel.think.max} ms, check remaining() > 0, write the value + 1, release. Between the check and the write a client pauses with probability ${leasePauseModel.pause.probability} for lognormal(median ${leasePauseModel.pause.median} ms, sigma ${leasePauseModel.pause.sigma}). Runs of ${leasePauseModel.duration / 1000} s end with a heal (paused clients resume, in-flight writes land) before the final read. Variants: unfenced storage, a fence on writes only, a fence on every access (fenceGuard). A lost update is an acknowledged increment missing from the final value.`,
  defaultRuns: 10_000,
  plan: ({ seed, runs }) => planLeasePause({ seed, runs }),
  conclusions: leasePauseConclusions,
  table: leasePauseTable,
  charts: leasePauseCharts,
  notes: (report) => [
    `A stale write is one accepted with a token lower than the highest token the storage had seen from any access. A write accepted after its lease expired but before the next holder touched the storage is harmless and not counted. ${report.results.reduce((n, r) => n + r.pauses, 0)} pauses in all; a pause "past expiry" outlasted the lease in the store.`,
  ],
  json: leasePauseJson,
});
