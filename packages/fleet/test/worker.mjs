// One instance of a service, for the multi-process tests (fleet.redis.test.ts). Imports the built
// dist/ (what users get). Configured by environment variables; prints one JSON line per event
// the test waits for and a final `{"done": …}` line; exits on its own.
import { circuitBreaker, consecutiveFailures } from '@faultline/breaker';
import { fleetBreaker, fleetBudget } from '@faultline/fleet';
import { redisFleetStore } from '@faultline/fleet/redis';
import { constant, ratioBudget, retry } from '@faultline/retry';
import { Redis } from 'ioredis';

const env = process.env;
const mode = env.MODE;
const id = Number(env.ID);
const startAt = Number(env.START_AT);
const duration = Number(env.DURATION ?? '3000');
const sync = Number(env.SYNC ?? '100');
const wall = () => performance.timeOrigin + performance.now();
const say = (value) => process.stdout.write(`${JSON.stringify({ id, ...value })}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const client = new Redis(env.REDIS_URL, {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  retryStrategy: () => 20,
  lazyConnect: true,
});
client.on('error', () => {});
await client.connect();
const store = redisFleetStore({ client, prefix: env.PREFIX });
say({ ready: true });
await sleep(Math.max(0, startAt - wall()));

if (mode === 'budget' || mode === 'budget-local') {
  const shape = { ratio: Number(env.RATIO), minRetriesPerSecond: Number(env.FLOOR), ttl: 1000 };
  const budget =
    mode === 'budget'
      ? fleetBudget({ store, name: 'downstream', budget: shape, sync })
      : ratioBudget(shape);
  const policy = retry({ maxAttempts: 3, backoff: constant(0), budget });
  let calls = 0;
  let attempts = 0;
  const failing = () => {
    attempts++;
    throw new Error('downstream is down');
  };
  const end = startAt + duration;
  while (wall() < end) {
    for (let k = 0; k < 5; k++) {
      calls++;
      await policy.execute(failing).catch(() => {});
    }
    await sleep(10);
  }
  budget.dispose?.();
  say({ done: true, calls, retries: attempts - calls });
} else if (mode === 'breaker' || mode === 'breaker-local') {
  const options = { trip: consecutiveFailures(5), breakDuration: Number(env.BREAK ?? '300') };
  const breaker =
    mode === 'breaker'
      ? fleetBreaker({ store, name: 'downstream', sync, ...options })
      : circuitBreaker(options);
  const opens = [];
  let probes = 0;
  let rejected = 0;
  let firstReject;
  let attempt = 0;
  breaker.onOpen((event) => {
    attempt = event.attempt;
    opens.push(wall());
  });
  const breaks = Number(env.BREAKS ?? '11');
  let later = 0;
  const failing = () => {
    // A probe of break k runs while this instance knows attempt k; the run stops at `breaks`.
    if (breaker.state === 'half-open') {
      if (attempt < breaks) probes++;
      else later++;
    }
    throw new Error('downstream is down');
  };
  const end = startAt + 30_000;
  while (attempt < breaks && wall() < end) {
    try {
      await breaker.execute(failing);
    } catch (error) {
      if (error.name === 'BrokenCircuitError') {
        rejected++;
        firstReject ??= wall();
      }
    }
    await sleep(5);
  }
  breaker.dispose?.();
  say({ done: true, probes, later, opens, firstReject, rejected, attempt });
} else if (mode === 'quorum') {
  const breaker = fleetBreaker({
    store,
    name: 'downstream',
    sync,
    trip: consecutiveFailures(5),
    breakDuration: 1000,
    quorum: Number(env.QUORUM),
  });
  let opened = 0;
  breaker.onOpen(() => opened++);
  const sick = env.SICK === '1';
  const fn = () => (sick ? Promise.reject(new Error('bad route')) : Promise.resolve('ok'));
  let calls = 0;
  while (wall() < startAt + duration) {
    calls++;
    await breaker.execute(fn).catch(() => {});
    await sleep(5);
  }
  breaker.dispose();
  say({ done: true, opened, calls });
} else if (mode === 'probe-kill') {
  const breaker = fleetBreaker({
    store,
    name: 'downstream',
    sync,
    trip: consecutiveFailures(5),
    breakDuration: Number(env.BREAK),
  });
  // Fails until the first break; then a probe hangs (the test kills the process holding it).
  const fn = () => {
    if (breaker.state === 'half-open') {
      say({ probing: true, at: wall() });
      return new Promise(() => {});
    }
    return Promise.reject(new Error('down'));
  };
  while (wall() < startAt + 20_000) {
    breaker.execute(fn).catch(() => {});
    await sleep(5);
  }
  say({ done: true });
} else if (mode === 'isolate') {
  const breaker = fleetBreaker({ store, name: 'downstream', sync, trip: consecutiveFailures(5) });
  let release;
  let isolatedAt;
  let releasedAt;
  let firstRejected;
  let lastRejected;
  let ok = 0;
  // How late this process's timers fire (a 10 ms probe): a process the machine does not run for
  // 100 ms sees the isolation 100 ms late whatever the breaker does (its sync timer and this
  // loop are both late). Samples of [ms since start, lateness]; the test adds the worst one of
  // each window to its bound, as the lease tests do.
  const lateness = [];
  let expected = performance.now() + 10;
  const probe = setInterval(() => {
    const now = performance.now();
    lateness.push([wall() - startAt, now - expected]);
    expected = now + 10;
  }, 10);
  const worstLateness = (from, to) => {
    let worst = 0;
    for (const [t, late] of lateness) if (t >= from && t <= to) worst = Math.max(worst, late);
    return worst;
  };
  while (wall() < startAt + duration) {
    const t = wall() - startAt;
    if (id === 0 && t >= 500 && isolatedAt === undefined) {
      isolatedAt = wall();
      release = breaker.isolate();
    }
    if (id === 0 && t >= 1500 && releasedAt === undefined) {
      releasedAt = wall();
      release();
    }
    try {
      await breaker.execute(() => Promise.resolve('ok'));
      ok++;
    } catch (error) {
      if (error.name !== 'IsolatedCircuitError') throw error;
      firstRejected ??= wall();
      lastRejected = wall();
    }
    await sleep(5);
  }
  breaker.dispose();
  clearInterval(probe);
  say({
    done: true,
    isolatedAt,
    releasedAt,
    firstRejected,
    lastRejected,
    // Worst timer lateness from the isolate() (at 500 ms) to this instance's first rejection,
    // and from the release (at 1500 ms) to its last one.
    lateIn: firstRejected === undefined ? 0 : worstLateness(500, firstRejected - startAt),
    lateOut: lastRejected === undefined ? 0 : worstLateness(1500, lastRejected - startAt),
    ok,
    state: breaker.state,
  });
} else if (mode === 'outage') {
  const breaker = fleetBreaker({
    store,
    name: 'downstream',
    sync,
    storeTimeout: Number(env.STORE_TIMEOUT),
    trip: consecutiveFailures(5),
  });
  const budget = fleetBudget({
    store,
    name: 'downstream',
    sync,
    storeTimeout: Number(env.STORE_TIMEOUT),
  });
  const policy = retry({ maxAttempts: 2, backoff: constant(0), budget });
  breaker.onStoreFailure(() => {});
  breaker.onRejoin(() => say({ rejoined: 'breaker', at: wall() }));
  budget.onRejoin(() => say({ rejoined: 'budget', at: wall() }));
  let failedOnce = false;
  breaker.onStoreFailure(() => {
    if (!failedOnce) say({ failing: true, at: wall() });
    failedOnce = true;
  });
  const latencies = [];
  let failures = 0;
  const fn = () => Promise.resolve('ok');
  while (wall() < startAt + duration) {
    const t0 = performance.now();
    try {
      await policy.execute(() => breaker.execute(fn));
    } catch {
      failures++;
    }
    latencies.push([wall(), performance.now() - t0]);
    await sleep(5);
  }
  breaker.dispose();
  budget.dispose();
  say({ done: true, failures, latencies, state: breaker.state, local: breaker.local });
}
lastCall();
client.disconnect();
