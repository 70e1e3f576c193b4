import { fileURLToPath } from 'node:url';
import {
  type NodeChild,
  requireBinary,
  serviceUrl,
  startNode,
  startRedisServer,
} from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

// Four real Node processes (the built dist/, built by the Vitest global setup) share one budget
// or breaker through Redis: the shared server with a unique prefix per test, or a throwaway
// redis-server of the test's own for the outage.

const redisUrl = await serviceUrl('redis');
const hasRedisServer = requireBinary('redis-server');
const worker = fileURLToPath(new URL('../test/worker.mjs', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let tests = 0;

interface Line {
  readonly id: number;
  readonly [key: string]: unknown;
}

/** Starts `n` workers with `env(i)`; resolves when all are connected, with a common start time. */
async function fleetOf(
  n: number,
  url: string,
  env: (i: number) => Record<string, string>,
): Promise<{ children: NodeChild[]; startAt: number; prefix: string }> {
  const prefix = `faultline:test:fleet:${run}:${++tests}:`;
  // Far enough ahead for every process to start and connect on a loaded machine.
  const startAt = Date.now() + 4_000;
  const children = Array.from({ length: n }, (_, i) =>
    startNode({
      file: worker,
      cwd: repo,
      timeout: 60_000,
      env: { REDIS_URL: url, PREFIX: prefix, ID: String(i), START_AT: String(startAt), ...env(i) },
    }),
  );
  await Promise.all(children.map((c) => c.waitFor(/"ready":true/, 20_000)));
  return { children, startAt, prefix };
}

function lines(child: NodeChild): Line[] {
  return child
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

async function results(children: NodeChild[]): Promise<Line[]> {
  const runs = await Promise.all(children.map((c) => c.done));
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
  return children.map((c) => lines(c).find((l) => l.done === true)!);
}

describe.skipIf(redisUrl === undefined)('4 processes on Redis', () => {
  const url = redisUrl!;

  it('budget: fleet-wide retries stay within ratio·requests + floor·time; 4 local budgets ≈ 4× the floor', async () => {
    const RATIO = 0.05;
    const FLOOR = 50; // retries per second, ttl 1 s: a reserve of 50 per window
    const DURATION = 3_500; // four windows of the reserve: 0, ~1, ~2, ~3 s
    const env = (mode: string) => () => ({
      MODE: mode,
      RATIO: String(RATIO),
      FLOOR: String(FLOOR),
      DURATION: String(DURATION),
      SYNC: '100',
    });
    const shared = await fleetOf(4, url, env('budget'));
    const fleet = await results(shared.children);
    const local = await results((await fleetOf(4, url, env('budget-local'))).children);
    const sum = (rows: Line[], key: string) => rows.reduce((s, r) => s + (r[key] as number), 0);
    const windows = Math.ceil(DURATION / 1000);
    const fleetBound = RATIO * sum(fleet, 'calls') + FLOOR * windows;
    const localBound = RATIO * sum(local, 'calls') + 4 * FLOOR * windows;
    const fleetRetries = sum(fleet, 'retries');
    const localRetries = sum(local, 'retries');
    console.log(
      `fleet budget: ${sum(fleet, 'calls')} calls, ${fleetRetries} retries (bound ${fleetBound.toFixed(0)}); ` +
        `4 local budgets: ${sum(local, 'calls')} calls, ${localRetries} retries (bound ${localBound.toFixed(0)}); ` +
        `floor part (retries − ratio·calls): fleet ${(fleetRetries - RATIO * sum(fleet, 'calls')).toFixed(0)}, ` +
        `local ${(localRetries - RATIO * sum(local, 'calls')).toFixed(0)}`,
    );
    expect(Math.abs(fleetRetries - fleetBound)).toBeLessThanOrEqual(0.05 * fleetBound);
    expect(Math.abs(localRetries - localBound)).toBeLessThanOrEqual(0.05 * localBound);
    // The floor is what N local budgets multiply: 4 processes, about 4× the fleet's.
    const floorRatio =
      (localRetries - RATIO * sum(local, 'calls')) / (fleetRetries - RATIO * sum(fleet, 'calls'));
    expect(floorRatio).toBeGreaterThanOrEqual(3.6);
    expect(floorRatio).toBeLessThanOrEqual(4.4);
  }, 60_000);

  it('breaker, all sick: every instance rejects within sync + 50 ms of the first opening; 10 breaks, 10 probes (40 with local breakers)', async () => {
    const SYNC = 100;
    const env = (mode: string) => () => ({ MODE: mode, SYNC: String(SYNC), BREAK: '300' });
    const fleet = await results((await fleetOf(4, url, env('breaker'))).children);
    const local = await results((await fleetOf(4, url, env('breaker-local'))).children);
    const firstOpening = Math.min(...fleet.map((r) => (r.opens as number[])[0]!));
    const lags = fleet.map((r) => (r.opens as number[])[0]! - firstOpening);
    const probes = fleet.reduce((s, r) => s + (r.probes as number), 0);
    const localProbes = local.reduce((s, r) => s + (r.probes as number), 0);
    console.log(
      `fleet breaker: lag of each instance's opening behind the first ${lags.map((l) => l.toFixed(1)).join(', ')} ms; ` +
        `${probes} probes over 10 breaks; 4 local breakers: ${localProbes}`,
    );
    const detail = JSON.stringify({ fleet, local });
    for (const lag of lags) expect(lag, detail).toBeLessThanOrEqual(SYNC + 50);
    // Probes of breaks 1–10 (each worker stops once it sees the 11th opening).
    expect(probes, detail).toBe(10);
    expect(localProbes, detail).toBe(40);
  }, 60_000);

  it('breaker, one sick instance with quorum 2: the others never open (with quorum 1 they do)', async () => {
    const env = (quorum: number) => (i: number) => ({
      MODE: 'quorum',
      QUORUM: String(quorum),
      SICK: i === 0 ? '1' : '0',
      DURATION: '2500',
      SYNC: '100',
    });
    const two = await results((await fleetOf(4, url, env(2))).children);
    const one = await results((await fleetOf(4, url, env(1))).children);
    console.log(
      `quorum 2: openings per instance ${two.map((r) => r.opened).join(', ')}; quorum 1: ${one.map((r) => r.opened).join(', ')}`,
    );
    for (const r of two) expect(r.opened).toBe(0);
    for (const r of one) expect(r.opened as number).toBeGreaterThan(0);
  }, 60_000);

  it('isolate() on one instance holds the whole fleet within one sync; release closes it everywhere', async () => {
    const SYNC = 100;
    const done = await results(
      (await fleetOf(4, url, () => ({ MODE: 'isolate', SYNC: String(SYNC), DURATION: '2500' })))
        .children,
    );
    const isolatedAt = done[0]!.isolatedAt as number;
    const releasedAt = done[0]!.releasedAt as number;
    const lagIn = done.map((r) => (r.firstRejected as number) - isolatedAt);
    const lagOut = done.map((r) => (r.lastRejected as number) - releasedAt);
    // Each bound also allows that instance's own worst timer lateness over the window (a 10 ms
    // probe in the child, printed): under a full test run on a shared 2-core machine a child can
    // go unscheduled for a whole sync, which no breaker can make up for (one CI run saw an
    // instance reject 201 ms after isolate() with the fixed bound of 150).
    const lateIn = done.map((r) => r.lateIn as number);
    const lateOut = done.map((r) => r.lateOut as number);
    console.log(
      `isolate: rejected from ${lagIn.map((l) => l.toFixed(0)).join(', ')} ms after isolate() (timer lateness ${lateIn.map((l) => l.toFixed(0)).join(', ')} ms); until ${lagOut.map((l) => l.toFixed(0)).join(', ')} ms after release (timer lateness ${lateOut.map((l) => l.toFixed(0)).join(', ')} ms)`,
    );
    lagIn.forEach((lag, i) => {
      expect(lag).toBeLessThanOrEqual(SYNC + 50 + lateIn[i]!);
    });
    lagOut.forEach((lag, i) => {
      expect(lag).toBeLessThanOrEqual(2 * SYNC + 50 + lateOut[i]!);
    });
    for (const r of done) expect(r.state).toBe('closed');
  }, 60_000);

  it('a probe holder killed mid-probe does not wedge the fleet: the next probe comes after the permit expires', async () => {
    const BREAK = 1_000;
    const { children, prefix } = await fleetOf(4, url, () => ({
      MODE: 'probe-kill',
      BREAK: String(BREAK),
      SYNC: '100',
    }));
    // Every permit as the store holds it (token, expiry on the store's clock), polled.
    const key = `${prefix}{downstream}:breaker`;
    const { Redis } = await import('ioredis');
    const redis = new Redis(url);
    const permits = new Map<number, { breakId: number; until: number }>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const [b, p, pu] = await redis.hmget(key, 'b', 'p', 'pu');
        if (Number(p) > 0 && !permits.has(Number(p))) {
          permits.set(Number(p), { breakId: Number(b), until: Number(pu) });
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const first = await Promise.race(
      children.map((c, i) => c.waitFor(/"probing":true/, 30_000).then(() => i)),
    );
    const firstAt = (lines(children[first]!).find((l) => l.probing) as Line).at as number;
    await children[first]!.stop('SIGKILL');
    const rest = children.filter((_, i) => i !== first);
    const second = await Promise.race(
      rest.map((c) => c.waitFor(/"probing":true/, 30_000).then(() => c)),
    );
    const secondAt = (lines(second).find((l) => l.probing) as Line).at as number;
    for (const c of rest) await c.stop('SIGKILL');
    polling = false;
    await poll;
    await redis.quit();
    // Each permit of a break is granted (at its expiry − BREAK, store clock) only once the
    // previous one has expired.
    const tokens = [...permits.keys()].sort((a, b) => a - b);
    const gaps: number[] = [];
    for (const token of tokens) {
      const previous = permits.get(token - 1);
      const current = permits.get(token)!;
      if (previous !== undefined && previous.breakId === current.breakId) {
        gaps.push(current.until - BREAK - previous.until);
      }
    }
    console.log(
      `probe holder killed; permits ${tokens.join(', ')}, each granted ${gaps.map((g) => g.toFixed(1)).join(', ')} ms after the previous one expired (store clock); the next probe started ${(secondAt - firstAt).toFixed(0)} ms after the first`,
    );
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(0);
      // …and soon after: the next call that wants it asks at once (within a sync and a call).
      expect(gap).toBeLessThanOrEqual(200);
    }
    expect(secondAt - firstAt).toBeLessThanOrEqual(BREAK + 500);
  }, 60_000);
});

describe.skipIf(!hasRedisServer)(
  'Redis stopped mid-run and restarted (a redis-server of its own)',
  () => {
    it('calls keep flowing on local state with no added latency; the fleet rejoins within 2 sync periods', async () => {
      const SYNC = 200;
      const redis = await startRedisServer();
      try {
        const { children, startAt } = await fleetOf(4, redis.url, () => ({
          MODE: 'outage',
          SYNC: String(SYNC),
          STORE_TIMEOUT: '100',
          DURATION: '5000',
        }));
        const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        await sleep(startAt + 1_500 - Date.now());
        const stoppedAt = Date.now();
        await redis.stop();
        await sleep(1_500);
        await redis.restart();
        const restartedAt = Date.now();
        const done = await results(children);
        const rejoins = children.map((c) =>
          lines(c)
            .filter((l) => typeof l.rejoined === 'string')
            .map((l) => (l.at as number) - restartedAt),
        );
        const latencies = done.flatMap((r) => r.latencies as Array<[number, number]>);
        const during = latencies.filter(([at]) => at > stoppedAt && at < restartedAt);
        const before = latencies.filter(([at]) => at > startAt && at < stoppedAt);
        const p99 = (xs: Array<[number, number]>) =>
          xs.map(([, ms]) => ms).sort((a, b) => a - b)[Math.floor(0.99 * (xs.length - 1))]!;
        console.log(
          `outage: ${during.length} calls during it (p99 ${p99(during).toFixed(2)} ms, before ${p99(before).toFixed(2)} ms, max ${Math.max(...during.map(([, ms]) => ms)).toFixed(2)} ms); ` +
            `rejoined after restart: ${rejoins.map((r) => r.map((ms) => ms.toFixed(0)).join('/')).join(', ')} ms`,
        );
        for (const r of done) expect(r.failures).toBe(0);
        expect(during.length).toBeGreaterThan(4 * 100);
        expect(p99(during)).toBeLessThan(Math.max(2, 2 * p99(before)));
        for (const r of rejoins) {
          expect(r).toHaveLength(2); // breaker and budget
          for (const ms of r) expect(ms).toBeLessThanOrEqual(2 * SYNC);
        }
        for (const r of done) expect(r.local).toBe(false);
      } finally {
        await redis.stop();
      }
    }, 60_000);
  },
);
