import { type ContentionReport, planContention } from './contention.js';
import { type GrayFailureReport, planGrayFailure } from './gray-failure.js';
import { type LatencyShiftReport, planLatencyShift } from './latency-shift.js';
import type { ScenarioOptions, ScenarioPlan } from './options.js';
import { type PartialFailureReport, planPartialFailure } from './partial-failure.js';
import { planRetryStorm, type RetryStormReport } from './retry-storm.js';

/** Any scenario's report. */
export type ScenarioReport =
  | ContentionReport
  | RetryStormReport
  | LatencyShiftReport
  | GrayFailureReport
  | PartialFailureReport;

/** A table for the terminal (and the HTML report). */
export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

/** A scenario as the CLI and the report know it. */
export interface ScenarioDefinition {
  readonly name: ScenarioName;
  readonly title: string;
  readonly description: string;
  readonly defaultRuns: number;
  plan(options: ScenarioOptions): ScenarioPlan<unknown, ScenarioReport>;
}

export const scenarioNames = [
  'contention',
  'retry-storm',
  'latency-shift',
  'gray-failure',
  'partial-failure',
] as const;
export type ScenarioName = (typeof scenarioNames)[number];

const cast = <O, R extends ScenarioReport>(
  plan: (options: ScenarioOptions) => ScenarioPlan<O, R>,
): ((options: ScenarioOptions) => ScenarioPlan<unknown, ScenarioReport>) =>
  plan as unknown as (options: ScenarioOptions) => ScenarioPlan<unknown, ScenarioReport>;

/** Every scenario, in the order `faultline-sim all` runs them. */
export const scenarios: Readonly<Record<ScenarioName, ScenarioDefinition>> = {
  contention: {
    name: 'contention',
    title: 'Contention: backoff and jitter under OCC (Brooker)',
    description:
      'N clients each update one row once with optimistic concurrency (read the version, write it back conditionally), retrying a failed write after a backoff. Calls = conditional writes; time = the last write reply. 10…190 clients, hop delay |Normal(10, 2)| ms, base 5 ms, cap 2000 ms.',
    defaultRuns: 100,
    plan: cast(planContention),
  },
  'retry-storm': {
    name: 'retry-storm',
    title: 'Retry storm: a 10 s outage at 80 % utilisation',
    description:
      'Open-loop clients (800 requests/s) call a server with 1000 requests/s of capacity that answers 503 for 10 s. Amplification = attempts per offered request during the outage; time to recover = from the end of the outage until goodput is back within 5 % of before.',
    defaultRuns: 3,
    plan: cast(planRetryStorm),
  },
  'latency-shift': {
    name: 'latency-shift',
    title: 'Latency shift: fixed versus adaptive timeouts',
    description:
      'Server latency (log-normal, median 50 ms) jumps 10× from 20 s to 40 s. Two attempts per request, each under a fixed (200 ms, 2000 ms) or adaptive timeout.',
    defaultRuns: 2,
    plan: cast(planLatencyShift),
  },
  'gray-failure': {
    name: 'gray-failure',
    title: 'Gray failure: one slow backend of four',
    description:
      'A client balances 1000 requests/s over four backends; from 10 s one serves 20× slower but stays up. Per-attempt timeout 100 ms, 2 attempts. Blind round robin versus skipping backends whose breaker is open or whose phi-accrual detector (fed by timely answers) suspects them.',
    defaultRuns: 2,
    plan: cast(planGrayFailure),
  },
  'partial-failure': {
    name: 'partial-failure',
    title: 'Partial failure: independent failures with probability x',
    description:
      'Each attempt fails independently with probability x; 3 attempts. Success should be 1 − x³ and load (1 − x³)/(1 − x) attempts per request; a token bucket caps the load near 1 as x → 1.',
    defaultRuns: 2,
    plan: cast(planPartialFailure),
  },
};

/** Whether `name` is a scenario. */
export function isScenarioName(name: string): name is ScenarioName {
  return (scenarioNames as readonly string[]).includes(name);
}
