/**
 * Acquire + release of a Redis lock, `@faultline/lease` against the JS peers (specs/performance.md,
 * issue 17: ≤ 1.15× redlock, with a fencing token that the peers do not give):
 * - `redlock` 4.2.0 (`lock` + `unlock`, one Redis, no retries) and `redis-semaphore` 5.8.0
 *   (`Mutex` `acquire` + `release`, its defaults);
 * - faultline `redisLeaseStore` alone (`acquire` + `release`: the store's floor) and the full
 *   `createLease` path (`lease.acquire()` + `held.release()`: validity, pause watcher, events);
 * - a hand-written floor: `SET NX PX` then a compare-and-delete script, the two round trips any
 *   safe lock needs.
 * Each case has its own ioredis client on the same Redis (REDIS_URL, default the shared
 * 127.0.0.1:6379) and its own key (unique prefix, deleted at the end; never FLUSHALL). Round trips
 * per acquire + release are counted by wrapping each client's `sendCommand`. The cases alternate
 * call by call (each iteration calls every case once, in an order rotated per round and reversed
 * every other round), the ratios of each round are computed within it, and the median round is
 * the figure of record.
 *
 * Run: `npx tsc -b benchmarks && nice -n 10 node benchmarks/dist/lease.js [--rounds 21] [--calls 500]`
 */
import { createLease } from '@faultline/lease';
import { redisLeaseStore } from '@faultline/lease/redis';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import Redlock from 'redlock';
import { type Figure, isMainModule, median, ratioLine } from './figures.js';
import { deleteKeys } from './http-harness.js';

export const leaseCases = {
  floor: 'hand-written SET NX PX + compare-and-delete script',
  redlock: 'redlock 4.2.0 lock + unlock',
  semaphore: 'redis-semaphore 5.8.0 Mutex acquire + release',
  store: 'faultline redisLeaseStore acquire + release',
  lease: 'faultline createLease acquire + held.release',
} as const;

type CaseId = keyof typeof leaseCases;

const TTL = 10_000;
const prefix = `faultline:bench:lease:${process.pid}:${Math.random().toString(36).slice(2, 8)}:`;

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface Counted {
  readonly client: Redis;
  /** Commands this client has sent so far. */
  sent(): number;
}

function countedClient(url: string): Counted {
  const client = new Redis(url);
  let sent = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    sent++;
    return send(...args);
  }) as Redis['sendCommand'];
  return { client, sent: () => sent };
}

export interface LeaseBench {
  readonly bodies: Record<CaseId, () => Promise<void>>;
  readonly clients: Record<CaseId, Counted>;
  close(): Promise<void>;
}

/** Builds every case once (clients connected, scripts warm). */
export async function setUpLeaseBench(url: string): Promise<LeaseBench> {
  const ids = Object.keys(leaseCases) as CaseId[];
  const clients = Object.fromEntries(ids.map((id) => [id, countedClient(url)])) as Record<
    CaseId,
    Counted
  >;
  await Promise.all(ids.map((id) => clients[id].client.ping()));

  // redlock 4 calls `eval([script, ...args], callback)`, which ioredis accepts (it flattens arrays).
  const redlock = new Redlock([clients.redlock.client as never], { retryCount: 0 });
  redlock.on('clientError', () => {});
  const store = redisLeaseStore({ client: clients.store.client, prefix: `${prefix}store:` });
  const lease = createLease({
    store: redisLeaseStore({ client: clients.lease.client, prefix: `${prefix}lease:` }),
    resource: 'bench',
    ttl: TTL,
  });
  let n = 0;
  const bodies: Record<CaseId, () => Promise<void>> = {
    floor: async () => {
      const id = String(++n);
      const key = `${prefix}floor`;
      if ((await clients.floor.client.set(key, id, 'PX', TTL, 'NX')) !== 'OK')
        throw new Error('held');
      await clients.floor.client.eval(UNLOCK, 1, key, id);
    },
    redlock: async () => {
      const lock = await redlock.lock(`${prefix}redlock`, TTL);
      await lock.unlock();
    },
    semaphore: async () => {
      const mutex = new Mutex(clients.semaphore.client, `${prefix}semaphore`, { lockTimeout: TTL });
      await mutex.acquire();
      await mutex.release();
    },
    store: async () => {
      const grant = await store.acquire('bench', 'owner', TTL);
      if (!('token' in grant)) throw new Error('held');
      await store.release('bench', 'owner', grant.token);
    },
    lease: async () => {
      const held = await lease.acquire();
      await held.release();
    },
  };
  for (const id of ids) for (let i = 0; i < 20; i++) await bodies[id](); // scripts cached
  return {
    bodies,
    clients,
    async close() {
      await deleteKeys(clients.floor.client, [`${prefix}*`, `mutex:${prefix}*`]);
      for (const id of ids) clients[id].client.disconnect();
    },
  };
}

/** Round trips per acquire + release of each case (commands sent over `calls` calls). */
export async function countRoundTrips(
  setup: LeaseBench,
  calls = 100,
): Promise<Record<CaseId, number>> {
  const result = {} as Record<CaseId, number>;
  for (const id of Object.keys(leaseCases) as CaseId[]) {
    const before = setup.clients[id].sent();
    for (let i = 0; i < calls; i++) await setup.bodies[id]();
    result[id] = (setup.clients[id].sent() - before) / calls;
  }
  return result;
}

/**
 * One round: `calls` iterations, each calling every case once in `order` and timing each call.
 * Network round trips dominate these cases (tens of µs, with a long tail on a shared machine), so
 * the cases alternate call by call: a burst of load lands on all of them alike. Mean and median
 * per case in ns.
 */
export async function runLeaseRound(
  setup: LeaseBench,
  order: readonly CaseId[],
  calls: number,
): Promise<Figure[]> {
  const times = order.map(() => new Float64Array(calls));
  for (let i = 0; i < calls; i++) {
    for (let c = 0; c < order.length; c++) {
      const started = performance.now();
      await setup.bodies[order[c]!]();
      times[c]![i] = (performance.now() - started) * 1e6;
    }
  }
  return order.map((id, c) => {
    const sorted = [...times[c]!].sort((a, b) => a - b);
    const mean = times[c]!.reduce((sum, t) => sum + t, 0) / calls;
    return { name: leaseCases[id], avgNs: mean, p50Ns: sorted[Math.floor(calls / 2)]! };
  });
}

if (isMainModule(import.meta.url)) {
  const roundsArg = process.argv.indexOf('--rounds');
  const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 21;
  const callsArg = process.argv.indexOf('--calls');
  const calls = callsArg > 0 ? Number(process.argv[callsArg + 1]) : 500;
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const setup = await setUpLeaseBench(url);
  try {
    const trips = await countRoundTrips(setup);
    const ids = Object.keys(leaseCases) as CaseId[];
    const all: Figure[][] = [];
    for (let round = 0; round < rounds; round++) {
      // Rotated, and every other round reversed: each case runs early and late.
      const rotated = ids.map((_, i) => ids[(i + round) % ids.length]!);
      all.push(await runLeaseRound(setup, round % 2 === 0 ? rotated : rotated.reverse(), calls));
    }
    const figure = (round: Figure[], id: CaseId) => round.find((f) => f.name === leaseCases[id])!;
    console.log(
      `node ${process.version}, Redis ${url}, ${rounds} rounds of ${calls} interleaved calls per case; medians of per-round figures; load ${(
        await import('node:os')
      )
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    for (const id of ids) {
      const avg = median(all.map((round) => figure(round, id).avgNs)) / 1000;
      const p50 = median(all.map((round) => figure(round, id).p50Ns)) / 1000;
      console.log(
        `${leaseCases[id].padEnd(52)} avg ${avg.toFixed(1).padStart(7)} µs  p50 ${p50.toFixed(1).padStart(7)} µs  round trips ${trips[id]}`,
      );
    }
    const targets: Array<[string, CaseId, CaseId, number]> = [
      ['createLease / redlock (avg)', 'lease', 'redlock', 1.15],
      ['redisLeaseStore / redlock (avg)', 'store', 'redlock', 1.15],
      ['createLease / redis-semaphore (avg)', 'lease', 'semaphore', Number.NaN],
      ['redisLeaseStore / hand-written floor (avg)', 'store', 'floor', Number.NaN],
    ];
    console.log('');
    for (const [label, a, b, target] of targets) {
      for (const stat of ['avgNs', 'p50Ns'] as const) {
        const perRound = all.map((round) => figure(round, a)[stat] / figure(round, b)[stat]);
        const name = label.replace('(avg)', stat === 'avgNs' ? '(avg)' : '(p50)');
        console.log(ratioLine(name.padEnd(44), perRound, target));
      }
    }
  } finally {
    await setup.close();
  }
}
