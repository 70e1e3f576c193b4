import type { Clock, TimerOptions } from '@faultline/clock';
import { type Policy, type Random, seededRandom } from '@faultline/core';
import { constant, exponential, retry } from '@faultline/retry';
import { normal } from '../distribution.js';
import type { SimulationRun } from '../engine.js';
import { Network } from '../network.js';
import { list, num, relative } from '../report/format.js';
import { lineChart, type Series } from '../report/svg.js';
import { defineScenario } from './definition.js';
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

function policyFor(strategy: ContentionStrategy, clock: Clock, random: Random): Policy {
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

/**
 * One run of the OCC model: the row (its version, the writes made, the time of the last write
 * reply) and the `Clock` of the run's one `retry` policy. One policy serves every client, as one
 * policy object serves every caller in production (a retry policy without a budget keeps no state
 * between calls; each call draws its own backoff sequence). It keeps a run's working set small: a
 * policy per client made the sweep's live memory outgrow the CPU caches.
 *
 * `now` is the run's, but the backoff before a retry (retry's `setTimer`, or a `sleep`) ends at once
 * and holds the retrying client's next read back by `ms`, so a retry's read reaches the server
 * `backoff + hop` after the failed write's reply, in one message, as in Brooker's simulator
 * (`send(backoff + hop)`), instead of a sleep timer and then a hop. The retrying client is the one
 * whose write reply just rejected its attempt (`retrying`): the engine delivers one settling message
 * of a run at a time and lets its reactions settle before the run moves again, and the rejection's
 * reactions reach retry's backoff before they reach anything else.
 */
class OccRun implements Clock {
  readonly clock: Clock;
  readonly network: Network;
  version = 0;
  calls = 0;
  lastReply = 0;
  /** The client whose attempt the last write reply rejected: the one retry's next sleep is for. */
  retrying: OccClient | undefined = undefined;
  /** Records the completion time when a client's call settles (one function for all clients). */
  readonly done: () => void;

  constructor(clock: Clock, network: Network) {
    this.clock = clock;
    this.network = network;
    this.done = () => {
      this.lastReply = this.clock.now();
    };
  }

  now(): number {
    return this.clock.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    // retry's backoff is a timer (setTimer below); a sleep is folded the same way for a retrying
    // client without a signal, and is a real sleep otherwise.
    const client = this.retrying;
    if (signal !== undefined || client === undefined) return this.clock.sleep(ms, signal);
    this.retrying = undefined;
    client.held += ms;
    return resolved;
  }

  /**
   * retry's backoff: its timer (see `sleep`) fires at once, inside this call, and its `ms` holds
   * the retrying client's next read back instead. Any other timer is a real one.
   */
  setTimer(ms: number, callback: () => void, options?: TimerOptions): () => void {
    const client = this.retrying;
    if (client === undefined) return this.clock.setTimer(ms, callback, options);
    this.retrying = undefined;
    client.held += ms;
    callback();
    return noop;
  }
}

/**
 * One client of the OCC model: read the version, write it back conditionally, until a write
 * succeeds. Each attempt is the four messages of Brooker's simulator, delivered as network
 * messages that carry this object (read request, read reply, write request, write reply); the
 * only promise is the attempt's own, which the real `retry` policy awaits. The message handlers
 * are plain callbacks: they settle nothing until the write reply, so the engine can deliver them
 * without a settle in between (`Network.post`).
 */
class OccClient {
  readonly run: OccRun;
  /** The version the current attempt read. */
  seen = 0;
  /** Whether the current attempt's write was accepted. */
  written = false;
  /** The backoff the policy asked for, still to be waited before the next read leaves. */
  held = 0;
  resolve: () => void = noop;
  reject: (error: unknown) => void = noop;
  /** The attempt `retry` runs: one promise, settled by the write reply. */
  readonly attempt: () => Promise<void>;

  constructor(run: OccRun) {
    this.run = run;
    this.attempt = () => {
      attemptClient = this;
      const promise = new Promise<void>(attemptExecutor);
      const held = this.held;
      this.held = 0;
      this.run.network.post(readAtServer, this, held);
      return promise;
    };
  }
}

const resolved = Promise.resolve();

function noop(): void {}

// The attempt's promise is built with one shared executor (set just before `new Promise`, which
// runs the executor synchronously), instead of a closure per attempt.
let attemptClient: OccClient | undefined;
function attemptExecutor(resolve: () => void, reject: (error: unknown) => void): void {
  const client = attemptClient!;
  attemptClient = undefined;
  client.resolve = resolve;
  client.reject = reject;
}

function readAtServer(client: OccClient): void {
  client.seen = client.run.version;
  client.run.network.post(readReply, client);
}

function readReply(client: OccClient): void {
  client.run.network.post(writeAtServer, client);
}

function writeAtServer(client: OccClient): void {
  const run = client.run;
  run.calls++;
  client.written = client.seen === run.version;
  if (client.written) run.version++;
  // The reply settles the attempt's promise: an ordinary (settling) message.
  run.network.send(writeReply, client);
}

function writeReply(client: OccClient): void {
  if (client.written) {
    client.resolve();
  } else {
    client.run.retrying = client;
    client.reject(conflict);
  }
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
      const network = new Network(clock, random, { latency: contentionModel.hop });
      const run = new OccRun(clock, network);
      const policy = policyFor(strategy, run, random);
      for (let i = 0; i < clients; i++) {
        // The completion time is read when the call settles (`done`), as an async client would
        // after `await policy.execute(...)`, without a suspended function per client.
        void policy.execute(new OccClient(run).attempt).then(run.done);
      }
      return { result: () => ({ calls: run.calls, time: run.lastReply }) };
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
  readonly seed: number;
  readonly runs: number;
  readonly results: readonly ContentionResult[];
}

/**
 * Mean calls and completion time of one run.
 * @inline
 */
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
    // Two runs side by side: each run's clients, policy promises and suspended calls are a few
    // hundred kilobytes, and with the engine's default of 8 the sweep's working set outgrew the
    // CPU caches (the sweep cost up to 1.7 times as much on a loaded machine). And 2 quiet
    // generations end a settle instead of 8, one more than this model needs: its longest chain
    // of reactions that touches no clock is a call's success (the write reply resolves the
    // attempt; retry's reaction resolves the caller's promise, directly even after retries;
    // `done` reads the clock), two hops after the fired timer, which 1 quiet generation covers
    // exactly (engine.test.ts: 1 gives the macrotask settle's results, 0 does not). Every quiet
    // generation is paid on every turn. Neither option changes the results: engine.test.ts and
    // contention.test.ts compare them with the macrotask settle and with 8 quiet generations.
    simulate: { concurrency: 2, quiet: 2 },
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
      return { scenario: 'contention', seed, runs, results };
    },
  };
}

/** Runs {@link planContention} in this thread. */
export function runContention(options: ContentionOptions = {}): Promise<ContentionReport> {
  return runPlan(planContention(options), options.simulate);
}

/**
 * What each strategy is, for people: the JSON keeps Brooker's short keys (`none` is his "no
 * backoff": a failed write is retried at once).
 */
export const contentionLabels: Readonly<Record<ContentionStrategy, string>> = {
  none: 'no backoff',
  exponential: 'exponential, no jitter',
  full: 'full jitter',
  equal: 'equal jitter',
  decorrelated: 'decorrelated jitter',
};

function sums(report: ContentionReport) {
  const by = new Map<ContentionStrategy, { calls: number; time: number }>();
  for (const r of report.results) {
    const sum = by.get(r.strategy) ?? { calls: 0, time: 0 };
    sum.calls += r.calls;
    sum.time += r.time;
    by.set(r.strategy, sum);
  }
  return by;
}

/** The measured conclusions of a contention report (Brooker's four findings, checked). */
function contentionConclusions(report: ContentionReport): string[] {
  const out: string[] = [];
  const total = sums(report);
  const clients = [...new Set(report.results.map((r) => r.clients))];
  const at = (c: number, s: ContentionStrategy) =>
    report.results.find((r) => r.clients === c && r.strategy === s);
  const has = (s: ContentionStrategy) => total.has(s);
  if (has('exponential')) {
    const others = [...total.keys()].filter((s) => s !== 'exponential');
    const slowest = clients.filter((c) =>
      others.every((s) => (at(c, 'exponential')?.time ?? 0) > (at(c, s)?.time ?? 0)),
    );
    const ratios = has('full')
      ? clients.map((c) => at(c, 'exponential')!.time / at(c, 'full')!.time)
      : [];
    out.push(
      `Exponential backoff without jitter was the slowest strategy at ${slowest.length} of ${clients.length} client counts` +
        (ratios.length > 0
          ? `, taking ${num(Math.min(...ratios))}–${num(Math.max(...ratios))}× as long as full jitter: the clients stay in lockstep and collide again at every retry.`
          : '.'),
    );
  }
  const jittered = (['full', 'equal', 'decorrelated'] as const).filter(has);
  if (has('none') && jittered.length > 0) {
    out.push(
      `Any jitter cut the work: over all client counts ${list(
        jittered.map(
          (s) =>
            `${contentionLabels[s]} made ${relative(total.get(s)!.calls, total.get('none')!.calls, 'more', 'fewer')} writes`,
        ),
      )} than no backoff (which retries at once and costs about N²/2 writes for N clients).`,
    );
  }
  if (has('full') && has('equal')) {
    const full = total.get('full')!;
    const equal = total.get('equal')!;
    out.push(
      `Equal jitter made ${relative(equal.calls, full.calls, 'more', 'fewer')} writes than full jitter and took ${relative(equal.time, full.time, 'longer', 'less time')}.`,
    );
  }
  if (has('full') && has('decorrelated')) {
    const full = total.get('full')!;
    const decorrelated = total.get('decorrelated')!;
    out.push(
      `Full and decorrelated jitter finished close together (decorrelated took ${relative(decorrelated.time, full.time, 'longer', 'less time')}), full jitter making ${relative(full.calls, decorrelated.calls, 'more', 'fewer')} writes: Brooker's published trade-off.`,
    );
  }
  return out;
}

/** `faultline-sim contention`: Brooker's OCC model (see {@link planContention}). */
export const contentionScenario = defineScenario({
  name: 'contention',
  title: 'Contention: backoff and jitter under OCC (Brooker)',
  description:
    'N clients each update one row once with optimistic concurrency (read the version, write it back conditionally), retrying a failed write after a backoff. Calls = conditional writes; time = the last write reply. 10…190 clients, hop delay |Normal(10, 2)| ms, base 5 ms, cap 2000 ms.',
  defaultRuns: 100,
  plan: (options) => planContention(options),
  conclusions: contentionConclusions,
  table(report) {
    const strategies = [...new Set(report.results.map((r) => r.strategy))];
    const clients = [...new Set(report.results.map((r) => r.clients))];
    const cell = (c: number, s: string): string => {
      const r = report.results.find((x) => x.clients === c && x.strategy === s);
      return r === undefined ? '—' : `${num(r.calls, 0)} / ${num(r.time, 0)}`;
    };
    return {
      title: `contention: mean writes / mean completion time (ms) over ${report.runs} runs`,
      columns: ['clients', ...strategies.map((s) => contentionLabels[s])],
      rows: clients.map((c) => [String(c), ...strategies.map((s) => cell(c, s))]),
    };
  },
  charts(report) {
    const strategies = [...new Set(report.results.map((r) => r.strategy))];
    const series = (key: 'calls' | 'time'): Series[] =>
      strategies.map((strategy) => ({
        name: contentionLabels[strategy],
        points: report.results
          .filter((r) => r.strategy === strategy)
          .map((r) => [r.clients, r[key]] as const),
      }));
    return [
      lineChart({
        title: 'Work: mean conditional writes per run',
        xLabel: 'clients',
        yLabel: 'calls (writes, log scale)',
        series: series('calls'),
        logY: true,
        height: 380,
      }),
      lineChart({
        title: 'Completion time: last write reply',
        xLabel: 'clients',
        yLabel: 'time (ms, log scale)',
        series: series('time'),
        logY: true,
        height: 380,
      }),
    ];
  },
  notes: () => [
    'Both charts use a log scale: without backoff the work grows as N², a hundred times the jittered strategies at 190 clients, which would flatten every other line against the axis.',
  ],
});
