import { tokenBucketBudget } from '@faultline/retry';
import { timeout } from '@faultline/timeout';
import { list, num, secondsText } from '../report/format.js';
import {
  type ComparisonReport,
  type ComparisonSpec,
  comparisonCharts,
  comparisonTable,
  planComparison,
} from './comparison.js';
import { defineScenario } from './definition.js';
import { retryClient } from './retry-client.js';

/**
 * The metastable-failure model (Bronson, Aghayev, Charapko, Zhu, "Metastable Failures in
 * Distributed Systems", HotOS 2021): a server at 80 % utilisation, a 5 s load spike to 160 % of
 * its capacity (the trigger), 1 s per-attempt timeouts. The spike fills the queue beyond what a
 * caller waits for; the server keeps serving requests whose callers have gone (wasted work), and
 * plain retries turn every timeout into more load (the sustaining effect), so the overload
 * outlives its trigger.
 */
export const metastableModel = {
  /** 5 workers × 20 ms mean service time = 250 requests/s of capacity. */
  concurrency: 5,
  serviceTimeMean: 20,
  queueLimit: 1000,
  rate: 200,
  spike: { start: 10_000, end: 15_000, rate: 400 },
  duration: 90_000,
  attemptTimeout: 1_000,
  maxAttempts: 3,
} as const;

const m = metastableModel;

/** The scenario as a comparison spec (the same engine as `faultline-sim run <file>`). */
export const metastableSpec: ComparisonSpec = {
  name: 'metastable',
  duration: m.duration,
  traffic: {
    kind: 'open',
    rate: [
      { at: 0, rate: m.rate },
      { at: m.spike.start, rate: m.spike.rate },
      { at: m.spike.end, rate: m.rate },
    ],
  },
  downstream: {
    latency: { kind: 'exponential', mean: m.serviceTimeMean },
    concurrency: m.concurrency,
    queueLimit: m.queueLimit,
  },
  network: { latency: { kind: 'normal', mean: 1, sd: 0.2 } },
  policies: {
    'no-retry': ({ clock }) => timeout(m.attemptTimeout, { clock }),
    'retry-3': (env) => retryClient(env, m),
    'retry-3-budget': (env) =>
      retryClient(env, m, { budget: tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 }) }),
    'retry-3-throttle': (env) => retryClient(env, m, { throttle: true }),
  },
};

/** One policy's result in the published `--json` shape. */
export interface MetastableResult {
  readonly policy: string;
  /** ms after the spike ends until goodput is back within 5 % of before; `null`: never in the run. */
  readonly timeToRecover: number | null;
  /** Attempts per request from the start of the spike to the end of the run. */
  readonly amplification: number | null;
  /** Goodput over the last 20 s of the run, requests/s. */
  readonly goodputAfter: number | null;
}

/** `faultline-sim metastable --json`. */
export interface MetastableJson {
  readonly scenario: 'metastable';
  readonly seed: number;
  readonly runs: number;
  readonly results: readonly MetastableResult[];
}

function amplificationAfterTrigger(report: ComparisonReport, policy: string): number | null {
  const result = report.results.find((r) => r.policy === policy);
  if (result === undefined) return null;
  let attempts = 0;
  let offered = 0;
  for (const b of result.buckets) {
    if (b.t < m.spike.start) continue;
    attempts += b.attempts ?? 0;
    offered += b.offered ?? 0;
  }
  return offered > 0 ? Math.round((attempts / offered) * 1000) / 1000 : null;
}

/** The report with each policy's amplification counted from the spike to the end of the run. */
function afterTrigger(report: ComparisonReport): ComparisonReport {
  return {
    ...report,
    results: report.results.map((r) => ({
      ...r,
      amplificationDisturbed: amplificationAfterTrigger(report, r.policy),
    })),
  };
}

/** The published `--json` shape of a metastable report. */
export function metastableJson(report: ComparisonReport): MetastableJson {
  return {
    scenario: 'metastable',
    seed: report.seed,
    runs: report.runs,
    results: report.results.map((r) => ({
      policy: r.policy,
      timeToRecover: r.timeToRecover,
      amplification: amplificationAfterTrigger(report, r.policy),
      goodputAfter: r.goodputAfter,
    })),
  };
}

function metastableConclusions(report: ComparisonReport): string[] {
  const json = metastableJson(report);
  const by = (p: string) => json.results.find((r) => r.policy === p);
  const before = report.results.find((r) => r.policy === 'no-retry')?.buckets;
  const baseline =
    before === undefined
      ? null
      : before.filter((b) => b.t < m.spike.start).reduce((s, b) => s + (b.goodput ?? 0), 0) /
        Math.max(1, before.filter((b) => b.t < m.spike.start).length);
  const out: string[] = [];
  const plain = by('retry-3');
  if (plain !== undefined) {
    out.push(
      plain.timeToRecover === null
        ? `After the load spike ended at ${m.spike.end / 1000} s, plain retries never recovered within the run: goodput over the last 20 s was ${num(plain.goodputAfter, 1)} requests/s (${num(baseline, 0)} before the spike) at ${num(plain.amplification, 2)} attempts per request.`
        : `After the load spike ended at ${m.spike.end / 1000} s, plain retries took ${secondsText(plain.timeToRecover)} to recover, at ${num(plain.amplification, 2)} attempts per request.`,
    );
  }
  const others = json.results.filter((r) => r.policy !== 'retry-3');
  const recovered = others.filter((r) => r.timeToRecover !== null);
  const never = others.filter((r) => r.timeToRecover === null);
  if (recovered.length > 0) {
    out.push(
      `${list(recovered.map((r) => `${r.policy} recovered in ${secondsText(r.timeToRecover)}`))}` +
        (never.length > 0 ? `; ${list(never.map((r) => r.policy))} did not within the run.` : '.'),
    );
  }
  return out;
}

/** `faultline-sim metastable`: see {@link metastableModel}. */
export const metastableScenario = defineScenario({
  name: 'metastable',
  title: 'Metastable failure: retries keep an overload alive after its trigger',
  description: `Open-loop clients (${m.rate} requests/s) call a server with ${(m.concurrency * 1000) / m.serviceTimeMean} requests/s of capacity (${m.concurrency} workers, exponential ${m.serviceTimeMean} ms service, a queue of ${m.queueLimit}); from ${m.spike.start / 1000} s to ${m.spike.end / 1000} s the load spikes to ${m.spike.rate} requests/s. Each attempt times out after ${m.attemptTimeout / 1000} s. Compared: no retries, 3 attempts, 3 attempts with a token-bucket budget (10 / 0.1), 3 attempts with an adaptive throttle (K = 2, 10 s window). Bronson et al., HotOS 2021.`,
  defaultRuns: 2,
  plan: (options) => planComparison(metastableSpec, options),
  conclusions: metastableConclusions,
  notes: () => [
    `Why plain retries never recover: the spike leaves more queued work than the server clears within a caller's ${m.attemptTimeout / 1000} s timeout. The server keeps serving those requests although their callers have gone, so it is busy and produces no goodput; every timeout comes back as up to ${m.maxAttempts - 1} more attempts, which keeps the queue full after the spike is over. This is the sustaining effect of a metastable failure: the load that keeps the system down is made by the system itself.`,
    'A retry budget breaks the loop by refusing retries while most attempts fail, so the load falls back to the first attempts (below capacity) and the queue drains; an adaptive throttle rejects attempts at the client in proportion to the failures it sees, and lets traffic back as successes return, which takes several of its windows.',
  ],
  // Amplification here counts from the spike to the end of the run: the sustaining effect.
  table: (report) => comparisonTable(afterTrigger(report), { window: 'from the spike on' }),
  charts: (report) => comparisonCharts(afterTrigger(report), { window: 'from the spike on' }),
  json: metastableJson,
});
