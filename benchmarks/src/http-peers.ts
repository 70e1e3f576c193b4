/**
 * `pnpm bench:http:peers`: @faultline/idempotency against the JS peers on the same Express 5 and
 * Fastify 5 server, the same trivial `POST /orders` handler and the same Redis (a
 * `redis-server` of the benchmark's own on a free loopback port): express-idempotency 1.0.6
 * (with express-idempotency-redis-adapter 1.0.8; Express only) and @node-idempotency/core 1.0.11
 * (memory and Redis storage adapters, through a thin wrapper like its unpublished upstream
 * plugins). Fresh keys and replays, memory and Redis; req/s and server CPU µs per request,
 * measured by autocannon on 127.0.0.1 with every configuration run once per round, rounds
 * interleaved (rotated order), medians of the per-round figures and ratios reported.
 *
 * Flags: `--duration <s>` (default 10), `--connections <n>` (50), `--rounds <n>` (3),
 * `--warmup <s>` (2), `--quick` (3 s, 1 round, 1 s warm-up), `--only <id,...>`,
 * `--framework express|fastify`, `--cpu-prof <dir>`, `--out <file>` (default
 * `results/http-peers-latest.json`), `--base <dist dir>` (also run our middleware from an earlier
 * build of `packages/idempotency`, as `faultline-base`, for a before/after in the same rounds),
 * `--rate <req/s>` (offer a fixed load instead of as much as the server answers, and compare
 * server CPU per request: see `measureScore`).
 */
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import {
  BODY,
  deleteKeys,
  flag,
  KEY_HEADER,
  keyPrefix,
  type Load,
  load,
  loadFlags,
  measureInRounds,
  median,
  numberFlag,
  PATH,
  runKeys,
  type ServerChild,
  startChild,
  startRedis,
  writeResults,
} from './http-harness.js';
import type { ServerSpec } from './http-peers-server.js';

const here = dirname(fileURLToPath(import.meta.url));

const { duration, connections, rounds, warmup, only, cpuProfArgs } = loadFlags({
  duration: 3,
  warmup: 1,
});
const frameworkOnly = flag('--framework');
const baseDist = flag('--base');
// numberFlag refuses anything but a positive number.
const rate = flag('--rate') === undefined ? undefined : numberFlag('--rate', 1);

interface Config {
  readonly id: string;
  readonly spec: ServerSpec;
  readonly keys: 'fresh' | 'replay';
}

/** Every case, per framework: bare, ours, the peers; memory and Redis; fresh keys and replays. */
function configs(redisUrl: string | undefined): Config[] {
  const out: Config[] = [];
  for (const framework of ['express', 'fastify'] as const) {
    if (frameworkOnly !== undefined && frameworkOnly !== framework) continue;
    out.push({
      id: `${framework}/bare`,
      spec: { framework, middleware: 'bare', store: 'memory' },
      keys: 'fresh',
    });
    const middlewares: ServerSpec['middleware'][] = ['faultline', 'node-idempotency'];
    if (framework === 'express') middlewares.push('express-idempotency');
    for (const store of ['memory', 'redis'] as const) {
      if (store === 'redis' && redisUrl === undefined) continue;
      if (baseDist !== undefined) {
        // The earlier build, default client only: the before of a before/after.
        for (const keys of ['fresh', 'replay'] as const) {
          const spec: ServerSpec =
            store === 'redis'
              ? { framework, middleware: 'faultline', store, redisUrl: redisUrl!, dist: baseDist }
              : { framework, middleware: 'faultline', store, dist: baseDist };
          out.push({ id: `${framework}/faultline-base/${store}/${keys}`, spec, keys });
        }
      }
      for (const middleware of middlewares) {
        const clients: (ServerSpec['client'] | undefined)[] =
          middleware === 'faultline' && store === 'redis'
            ? ['ioredis', 'ioredis-ap', 'node-redis', 'node-redis-nt', 'node-redis4']
            : [undefined];
        for (const client of clients) {
          for (const keys of ['fresh', 'replay'] as const) {
            const name = client === undefined ? middleware : `${middleware}(${client})`;
            const spec: ServerSpec =
              store === 'redis'
                ? {
                    framework,
                    middleware,
                    store,
                    redisUrl: redisUrl!,
                    ...(client ? { client } : {}),
                  }
                : { framework, middleware, store };
            out.push({ id: `${framework}/${name}/${store}/${keys}`, spec, keys });
          }
        }
      }
    }
  }
  return out.filter(
    (config) =>
      only === undefined ||
      only.some((id) => config.id.includes(id)) ||
      config.spec.middleware === 'bare',
  );
}

/** A second request with the primed key was a replay. */
function replayed(response: Response, attempt: number): boolean {
  if (response.status < 300 && response.headers.get('idempotent-replayed') !== null) return true;
  // express-idempotency marks nothing on a replay; a 2xx after the first is its replay.
  return response.status < 300 && response.headers.get('x-hit') === null && attempt > 2;
}

interface Run extends Load {
  readonly config: string;
  readonly round: number;
  readonly serverCpuUsPerRequest: number;
  /** The redis-server's CPU time per request (`INFO cpu`, diffed), Redis cases only. */
  readonly redisUsPerRequest?: number;
  readonly loadavg1: number;
}

/**
 * The CPU time the benchmark's own redis-server has used, in µs (`INFO cpu`: user + system, all
 * threads). Not `INFO commandstats`: it counts a command run by a script both on its own and
 * inside the script's time, and leaves out reading and writing the sockets.
 */
async function redisCpuUs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const seconds = (name: string): number =>
    Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6;
}

async function measure(config: Config, round: number, admin: Redis | undefined): Promise<Run> {
  if (config.spec.store === 'redis' && admin !== undefined) {
    // What the benchmark's servers wrote: our prefix, node-idempotency's, and the raw keys
    // express-idempotency stores under the client's key.
    await deleteKeys(admin, ['bench:*', `${keyPrefix}*`]);
  }
  const server: ServerChild = await startChild(
    join(here, 'http-peers-server.js'),
    [JSON.stringify(config.spec)],
    { execArgv: cpuProfArgs },
  );
  try {
    const key = await runKeys(config.keys, server.url, replayed);
    const options = {
      connections,
      body: BODY,
      keyHeader: KEY_HEADER,
      key,
      ...(rate === undefined ? {} : { rate }),
    };
    await load(`${server.url}${PATH}`, { ...options, seconds: warmup });
    const redis = config.spec.store === 'redis' ? admin : undefined;
    const redisBefore = redis === undefined ? 0 : await redisCpuUs(redis);
    const before = await server.cpuMs();
    const result = await load(`${server.url}${PATH}`, { ...options, seconds: duration });
    const cpu = (await server.cpuMs()) - before;
    // The two INFO calls themselves add some µs in total: nothing per request.
    const redisUs = redis === undefined ? undefined : (await redisCpuUs(redis)) - redisBefore;
    const requests = Math.max(1, result.requests);
    return {
      config: config.id,
      round,
      ...result,
      serverCpuUsPerRequest: +((cpu * 1000) / requests).toFixed(1),
      ...(redisUs === undefined ? {} : { redisUsPerRequest: +(redisUs / requests).toFixed(1) }),
      loadavg1: +loadavg()[0]!.toFixed(2),
    };
  } finally {
    await server.close();
  }
}

const redisServer = await startRedis();
if (redisServer === undefined)
  console.error('bench:http:peers: no redis-server: Redis cases skipped.');
const admin = redisServer === undefined ? undefined : new Redis(redisServer.url);
const list = configs(redisServer?.url);
const loadBefore = loadavg();
console.error(
  `bench:http:peers: ${list.length} configurations × ${rounds} round(s), ${duration} s each (+${warmup} s warm-up), ${connections} connections, Node ${process.version}; load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')}`,
);
const runs = await measureInRounds(
  list,
  rounds,
  (config, round) => measure(config, round, admin),
  (config, run, round) =>
    `  round ${round} ${config.id.padEnd(46)} ${run.rps.toFixed(0).padStart(7)} req/s  ${run.serverCpuUsPerRequest.toFixed(1).padStart(6)} µs/req${run.redisUsPerRequest === undefined ? '' : `  redis ${run.redisUsPerRequest.toFixed(1)} µs/req`}  non2xx ${run.non2xx}  errors ${run.errors + run.timeouts}  load ${run.loadavg1}`,
);
admin?.disconnect();
await redisServer?.stop();
const loadAfter = loadavg();

/**
 * What a run's ratios compare. As fast as the server answers: req/s. At a fixed offered load
 * (`--rate`) every configuration that keeps up serves the same req/s, so the ratios compare
 * capacity instead, the inverse of server CPU per request: the server is not saturated, so each
 * request is not squeezed by the next, and the per-round ratios spread about a third as much
 * (Express, memory store, fresh keys, 8 rounds of 5 s: standard deviation 2.1 % at 7 000 req/s
 * against 7.3 % saturated).
 */
const measureScore = (run: Run): number =>
  rate === undefined ? run.rps : 1e6 / run.serverCpuUsPerRequest;

/** Per config: medians, and per-round ratios to bare and to the fastest peer of its case. */
const summary = list.map((config) => {
  const own = runs.filter((run) => run.config === config.id);
  const framework = config.spec.framework;
  const caseOf = (id: string) => id.split('/').slice(2).join('/'); // store/keys
  const ratiosTo = (pick: (run: Run) => Run | undefined): number[] =>
    own.map((run) => {
      const other = pick(run);
      return other === undefined ? Number.NaN : measureScore(run) / measureScore(other);
    });
  const medianOf = (ratios: number[]) => +median(ratios).toFixed(3);
  const ratioTo = (pick: (run: Run) => Run | undefined) => medianOf(ratiosTo(pick));
  const bare = (run: Run) =>
    runs.find((r) => r.round === run.round && r.config === `${framework}/bare`);
  const fastestPeer = (run: Run) =>
    runs
      .filter(
        (r) =>
          r.round === run.round &&
          r.config.startsWith(`${framework}/`) &&
          (r.config.includes('/node-idempotency/') || r.config.includes('/express-idempotency/')) &&
          caseOf(r.config) === caseOf(config.id),
      )
      .sort((a, b) => measureScore(b) - measureScore(a))[0];
  const isBase = config.spec.dist !== undefined;
  const base = (run: Run) =>
    runs.find(
      (r) =>
        r.round === run.round && r.config === `${framework}/faultline-base/${caseOf(config.id)}`,
    );
  const toPeer = config.spec.middleware === 'faultline' ? ratiosTo(fastestPeer) : undefined;
  const comparable =
    config.spec.middleware === 'faultline' &&
    !isBase &&
    (config.spec.client === undefined || config.spec.client === 'ioredis');
  return {
    id: config.id,
    rpsMedian: Math.round(median(own.map((run) => run.rps))),
    cpuUsPerRequestMedian: median(own.map((run) => run.serverCpuUsPerRequest)),
    ...(config.spec.store === 'redis'
      ? { redisUsPerRequestMedian: median(own.map((run) => run.redisUsPerRequest ?? Number.NaN)) }
      : {}),
    xBare: ratioTo(bare),
    xFastestPeer: toPeer === undefined ? undefined : medianOf(toPeer),
    // The lowest and highest of the per-round ratios: on a shared machine a median of 0.97 or
    // 1.03 says little unless the rounds agree, so the table shows how far they spread.
    xFastestPeerRange:
      toPeer === undefined
        ? undefined
        : ([+Math.min(...toPeer).toFixed(3), +Math.max(...toPeer).toFixed(3)] as const),
    // Our req/s over the earlier build's (`--base`), same round, same client.
    xBase: baseDist !== undefined && comparable ? ratioTo(base) : undefined,
    non2xx: own.reduce((sum, run) => sum + run.non2xx, 0),
    errors: own.reduce((sum, run) => sum + run.errors + run.timeouts, 0),
  };
});

console.log(
  `\n## Idempotency middleware vs the JS peers (autocannon, ${connections} connections, ${duration} s, ${rounds} round(s), medians)\n`,
);
if (rate !== undefined) {
  console.log(
    `${rate} req/s offered: the ratios compare capacity (1 ÷ server CPU per request), not req/s.\n`,
  );
  const behind = runs.filter((run) => run.rps < rate * 0.97);
  for (const run of behind) {
    console.log(
      `  ${run.config} round ${run.round} served ${run.rps.toFixed(0)} req/s: saturated, so its CPU per request is not comparable; offer less.`,
    );
  }
}
console.log(
  `${'configuration'.padEnd(50)} ${'req/s'.padStart(8)} ${'µs/req'.padStart(7)} ${'×bare'.padStart(6)} ${'×best peer'.padStart(10)} ${'(rounds)'.padStart(13)} ${'×base'.padStart(6)}  non2xx`,
);
for (const row of summary) {
  const range = row.xFastestPeerRange;
  console.log(
    `${row.id.padEnd(50)} ${String(row.rpsMedian).padStart(8)} ${row.cpuUsPerRequestMedian.toFixed(1).padStart(7)} ${row.xBare.toFixed(3).padStart(6)} ${(row.xFastestPeer === undefined ? '' : row.xFastestPeer.toFixed(3)).padStart(10)} ${(range === undefined ? '' : `${range[0].toFixed(2)}–${range[1].toFixed(2)}`).padStart(13)} ${(row.xBase === undefined ? '' : row.xBase.toFixed(3)).padStart(6)}  ${row.non2xx}${row.errors > 0 ? ` (errors ${row.errors})` : ''}`,
  );
}
console.log(
  `\nload average before ${loadBefore.map((v) => v.toFixed(2)).join(' ')}, after ${loadAfter.map((v) => v.toFixed(2)).join(' ')} (${availableParallelism()} cores shared; ratios are paired per round; "(rounds)": the lowest and highest per-round ratio to the best peer)`,
);
const out = flag('--out') ?? join(here, '..', 'results', 'http-peers-latest.json');
writeResults(out, {
  settings: { duration, connections, rounds, warmup, rate, body: BODY, path: PATH },
  loadavgBefore: loadBefore,
  loadavgAfter: loadAfter,
  summary,
  runs,
});
console.error(`bench:http:peers: wrote ${out}`);
