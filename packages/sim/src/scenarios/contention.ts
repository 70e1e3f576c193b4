import { type Policy, type Random, seededRandom } from '@faultline/core';
import { constant, exponential, retry } from '@faultline/retry';
import { normal } from '../distribution.js';
import type { SimClock, SimulationRun } from '../engine.js';
import { Network, type Respond } from '../network.js';
import { runPlan, type ScenarioOptions, type ScenarioPlan, scenarioDefaults } from './options.js';
import { round, runSeed } from './service.js';

/** The backoff strategies of Brooker's "Exponential Backoff And Jitter". */
export type ContentionStrategy = 'none' | 'exponential' | 'full' | 'equal' | 'decorrelated';

export const contentionStrategies: readonly ContentionStrategy[] = [
  'none',
  'exponential',
  'full',
  'equal',
  'decorrelated',
];

/** One point of the sweep: means over the runs. */
export interface ContentionResult {
  readonly clients: number;
  readonly strategy: ContentionStrategy;
  /** Mean number of conditional writes per run. */
  readonly calls: number;
  /** Mean completion time (the last write reply), ms. */
  readonly time: number;
}

/** The model's constants, from aws-samples/aws-arch-backoff-simulator. */
export const contentionModel = {
  base: 5,
  cap: 2000,
  hop: normal(10, 2),
} as const;

/** Thrown by a conflicting write. Shared: building an Error (and its stack) per conflict would
 * cost more than the rest of the simulated call. */
const conflict = new Error('write conflict: the row changed since it was read');

function policyFor(strategy: ContentionStrategy, clock: SimClock, random: Random): Policy {
  const { base, cap } = contentionModel;
  // Brooker's expo(n) = min(cap, base·2^n) with n = 1 for the first retry, i.e. faultline's
  // exponential({ initial: 2·base }) whose e(n) = min(max, initial·2^(n-1)). Decorrelated jitter
  // starts from sleep = base: d(n) = min(cap, U(base, 3·d(n-1))).
  const backoff =
    strategy === 'none'
      ? constant(0)
      : strategy === 'decorrelated'
        ? exponential({ initial: base, max: cap, jitter: 'decorrelated' })
        : exponential({
            initial: 2 * base,
            factor: 2,
            max: cap,
            jitter: strategy === 'exponential' ? 'none' : strategy,
          });
  return retry({ maxAttempts: Number.POSITIVE_INFINITY, backoff, clock, random });
}

interface Row {
  version: number;
  calls: number;
  lastReply: number;
}

/** One client: read the version, write it back conditionally, until a write succeeds. */
async function occClient(
  policy: Policy,
  row: Row,
  network: Network,
  clock: SimClock,
): Promise<void> {
  const read = (respond: Respond<number>): void => respond(undefined, row.version);
  await policy.execute(async () => {
    const seen = await network.call(read);
    const written = await network.call<boolean>((respond) => {
      row.calls++;
      const ok = seen === row.version;
      if (ok) row.version++;
      respond(undefined, ok);
    });
    if (!written) throw conflict;
  });
  row.lastReply = clock.now();
}

/** One run of the OCC model with `clients` clients. */
export function contentionRun(
  clients: number,
  strategy: ContentionStrategy,
  seed: number,
): SimulationRun<ContentionOutcome> {
  return {
    setup(clock) {
      const random = seededRandom(seed);
      const policy = policyFor(strategy, clock, random);
      const row: Row = { version: 0, calls: 0, lastReply: 0 };
      const network = new Network(clock, random, { latency: contentionModel.hop });
      for (let i = 0; i < clients; i++) void occClient(policy, row, network, clock);
      return { result: () => ({ calls: row.calls, time: row.lastReply }) };
    },
  };
}

/** Options for {@link runContention}. */
export interface ContentionOptions extends ScenarioOptions {
  /** Client counts. Default 10, 20, …, 190. */
  readonly clients?: readonly number[];
  readonly strategies?: readonly ContentionStrategy[];
}

/** The `--json` shape of `faultline-sim contention`. */
export interface ContentionReport {
  readonly scenario: 'contention';
  readonly results: readonly ContentionResult[];
}

/** Mean calls and completion time of one run. */
export interface ContentionOutcome {
  readonly calls: number;
  readonly time: number;
}

/** The full sweep: for each client count and strategy, the mean calls and time over `runs`. */
export function planContention(
  options: ContentionOptions = {},
): ScenarioPlan<ContentionOutcome, ContentionReport> {
  const clientCounts = options.clients ?? Array.from({ length: 19 }, (_, i) => 10 * (i + 1));
  const strategies = options.strategies ?? contentionStrategies;
  const { seed, runs } = scenarioDefaults('planContention', options, 100);
  const specs: SimulationRun<ContentionOutcome>[] = [];
  for (const clients of clientCounts) {
    for (const strategy of strategies) {
      const s = contentionStrategies.indexOf(strategy);
      for (let run = 0; run < runs; run++) {
        specs.push(contentionRun(clients, strategy, runSeed(seed, clients, s, run)));
      }
    }
  }
  return {
    specs,
    aggregate(outcomes) {
      const results: ContentionResult[] = [];
      let k = 0;
      for (const clients of clientCounts) {
        for (const strategy of strategies) {
          let calls = 0;
          let time = 0;
          for (let run = 0; run < runs; run++) {
            const o = outcomes[k++]!;
            calls += o.calls;
            time += o.time;
          }
          results.push({
            clients,
            strategy,
            calls: round(calls / runs)!,
            time: round(time / runs)!,
          });
        }
      }
      return { scenario: 'contention', results };
    },
  };
}

/** Runs {@link planContention} in this thread. */
export function runContention(options: ContentionOptions = {}): Promise<ContentionReport> {
  return runPlan(planContention(options), options.simulate);
}
