/**
 * `pnpm bench:http`: requests/s of a trivial Fastify 5 POST handler, bare and behind
 * `@faultline/idempotency`'s middleware (memory store with a fresh key per request, replays of
 * one completed key, Redis store with fresh keys), measured by autocannon on 127.0.0.1; plus the
 * Redis round trips per request, counted with MONITOR. Targets from the performance spec:
 * memory ≥ 0.85× bare, replays ≥ 1.0× bare, Redis exactly one round trip to claim and one to
 * complete. Writes `benchmarks/results/http-latest.json`.
 *
 * The server runs in a child process (`http-server.ts`), so the load generator never shares its
 * event loop. Every configuration is run once per round, rounds interleaved, and medians are
 * reported: on a shared machine the load drifts during a run, and pairing each configuration
 * with the bare run of the same round cancels most of that drift.
 *
 * Flags: `--duration <s>` (default 10), `--connections <n>` (default 50), `--rounds <n>`
 * (default 3), `--warmup <s>` (default 2), `--quick` (2 s runs, 1 round, 0.5 s warm-up),
 * `--only <config,...>`, `--cpu-prof <dir>` (the server children write V8 CPU profiles there),
 * `--no-redis`, `--idempotency-dir <dir>` (load `<dir>/dist/*.js` instead of the workspace
 * package: an older build, for before/after numbers), `--out <file>` (default
 * `results/http-latest.json`).
 */
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLog } from '@faultline/test-support/services';
import { Redis } from 'ioredis';
import {
  BODY,
  deleteKeys,
  flag,
  freshKey,
  KEY_HEADER,
  type Load,
  load,
  loadFlags,
  measureInRounds,
  median,
  PATH,
  post,
  runKeys,
  type ServerChild,
  startChild,
  startRedis,
  writeResults,
} from './http-harness.js';
import type { ServerMode } from './http-server.js';

const here = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Flags

const { duration, connections, rounds, warmup, only, cpuProfArgs } = loadFlags({
  duration: 2,
  warmup: 0.5,
});
const wantRedis = !process.argv.includes('--no-redis');
/** Another build of @faultline/idempotency (a directory holding `dist/`), for before/after runs. */
const idempotencyDir = flag('--idempotency-dir');

// ---------------------------------------------------------------------------------------------
// Configurations

interface Config {
  readonly id: string;
  readonly label: string;
  readonly mode: ServerMode;
  /** Fresh key per request, or one key completed beforehand (every request is a replay). */
  readonly keys: 'fresh' | 'replay';
  /** Minimum ratio to bare, when the spec sets one. */
  readonly target?: number;
}

const CONFIGS: readonly Config[] = [
  { id: 'bare', label: 'no middleware', mode: 'bare', keys: 'fresh' },
  { id: 'hook', label: 'empty async preHandler', mode: 'hook', keys: 'fresh' },
  {
    id: 'memory',
    label: 'memory store, fresh key',
    mode: 'memory',
    keys: 'fresh',
    target: 0.85,
  },
  { id: 'replay', label: 'memory store, replay', mode: 'memory', keys: 'replay', target: 1.0 },
  { id: 'redis', label: 'Redis store, fresh key', mode: 'redis', keys: 'fresh' },
  { id: 'redis-replay', label: 'Redis store, replay', mode: 'redis', keys: 'replay' },
];

// ---------------------------------------------------------------------------------------------
// Processes

function startServer(mode: ServerMode, redisUrl: string | undefined): Promise<ServerChild> {
  return startChild(
    join(here, 'http-server.js'),
    redisUrl === undefined ? [mode] : [mode, redisUrl],
    {
      execArgv: cpuProfArgs,
      env:
        idempotencyDir === undefined
          ? process.env
          : { ...process.env, FAULTLINE_IDEMPOTENCY_DIR: idempotencyDir },
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Load

/** Our middleware marks a replay with `idempotent-replayed: true`. */
const replayed = (response: Response): boolean =>
  response.headers.get('idempotent-replayed') === 'true';

/** autocannon against `url` for `seconds`, every configuration building its requests alike. */
function loadFor(url: string, seconds: number, key: () => string): Promise<Load> {
  return load(`${url}${PATH}`, { seconds, connections, body: BODY, keyHeader: KEY_HEADER, key });
}

interface Run extends Load {
  readonly config: string;
  readonly round: number;
  /** Server CPU time during the measured window, as a share of one core. */
  readonly serverCpu: number;
  /** Server CPU time per request (µs): steadier than req/s when the machine is oversubscribed. */
  readonly serverCpuUsPerRequest: number;
  /** Load-generator CPU time during the measured window, as a share of one core. */
  readonly clientCpu: number;
  readonly loadavg1: number;
}

async function measure(config: Config, round: number, redis: Redis | undefined, redisUrl?: string) {
  // Only what the benchmark wrote (its own redis-server all the same): never FLUSHALL.
  if (config.mode === 'redis' && redis !== undefined) await deleteKeys(redis, ['faultline:idem:*']);
  const server = await startServer(config.mode, redisUrl);
  try {
    const key = await runKeys(config.keys, server.url, replayed);
    await loadFor(server.url, warmup, key);
    const serverBefore = await server.cpuMs();
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    const result = await loadFor(server.url, duration, key);
    const wall = performance.now() - started;
    const clientUsage = process.cpuUsage(clientBefore);
    const serverCpu = (await server.cpuMs()) - serverBefore;
    const run: Run = {
      config: config.id,
      round,
      ...result,
      serverCpu: +(serverCpu / wall).toFixed(2),
      serverCpuUsPerRequest: +((serverCpu * 1000) / result.requests).toFixed(1),
      clientCpu: +((clientUsage.user + clientUsage.system) / 1000 / wall).toFixed(2),
      loadavg1: +loadavg()[0]!.toFixed(2),
    };
    return run;
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Redis round trips (MONITOR on a second connection)

interface RoundTrips {
  readonly newRequests: number;
  /** Commands clients sent per new request (Lua's inner calls excluded), by role. */
  readonly perNewRequest: { claim: number; complete: number; other: number; total: number };
  readonly replays: number;
  readonly perReplay: number;
  /** Every command seen, by name, over the new requests. */
  readonly commands: Record<string, number>;
  readonly met: boolean;
}

async function countRoundTrips(redisUrl: string, count: number): Promise<RoundTrips> {
  const admin = new Redis(redisUrl);
  const monitorBase = new Redis(redisUrl);
  const monitor = await monitorBase.monitor();
  const log = commandLog(monitor, admin);
  const settle = async (expected: number): Promise<void> => {
    // Completions are written after the response is sent: wait for them, then a little longer
    // to catch any extra command.
    for (let i = 0; i < 400 && log.sent().length < expected; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    await log.sync();
  };

  const server = await startServer('redis', redisUrl);
  try {
    // Warm-up: loads the scripts (EVALSHA → NOSCRIPT → EVAL happens once per script).
    for (let i = 0; i < 3; i++) await post(server.url, freshKey());
    await settle(0);

    log.clear();
    const keys: string[] = [];
    for (let i = 0; i < count; i++) {
      const key = freshKey();
      keys.push(key);
      const response = await post(server.url, key);
      if (response.status !== 200)
        throw new Error(`round-trip request answered ${response.status}`);
    }
    await settle(2 * count);
    const onNew = log.sent();
    const commands: Record<string, number> = {};
    for (const entry of onNew) commands[entry.command] = (commands[entry.command] ?? 0) + 1;
    // The claim script is the first one each request runs; the other EVALSHA is the completion.
    const claimSha = onNew.find((entry) => entry.command === 'EVALSHA')?.first;
    const claim = onNew.filter((e) => e.command === 'EVALSHA' && e.first === claimSha).length;
    const complete = onNew.filter((e) => e.command === 'EVALSHA' && e.first !== claimSha).length;

    log.clear();
    for (const key of keys) {
      const response = await post(server.url, key);
      if (response.headers.get('idempotent-replayed') !== 'true') {
        throw new Error('round-trip replay was not a replay');
      }
    }
    await settle(count);
    const onReplay = log.sent().length;

    const perNewRequest = {
      claim: claim / count,
      complete: complete / count,
      other: (onNew.length - claim - complete) / count,
      total: onNew.length / count,
    };
    return {
      newRequests: count,
      perNewRequest,
      replays: count,
      perReplay: onReplay / count,
      commands,
      met:
        perNewRequest.claim === 1 &&
        perNewRequest.complete === 1 &&
        perNewRequest.other === 0 &&
        onReplay === count,
    };
  } finally {
    await server.close();
    monitor.disconnect();
    monitorBase.disconnect();
    admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// Main

const redisServer = wantRedis ? await startRedis() : undefined;
if (wantRedis && redisServer === undefined) {
  console.error('bench:http: redis-server is not installed: the Redis cases are skipped.');
}
const admin = redisServer === undefined ? undefined : new Redis(redisServer.url);
const configs = CONFIGS.filter(
  (config) =>
    (only === undefined || only.includes(config.id) || config.id === 'bare') &&
    (config.mode !== 'redis' || redisServer !== undefined),
);

const loadBefore = loadavg();
console.error(
  `bench:http: ${configs.length} configurations × ${rounds} round(s), ${duration} s each (+${warmup} s warm-up), ${connections} connections, Node ${process.version}; load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')}`,
);

const runs = await measureInRounds(
  configs,
  rounds,
  (config, round) => measure(config, round, admin, redisServer?.url),
  (config, run, round) =>
    `  round ${round} ${config.id.padEnd(13)} ${run.rps.toFixed(0).padStart(7)} req/s  p99 ${run.latencyP99Ms} ms  server cpu ${run.serverCpu}  client cpu ${run.clientCpu}  non2xx ${run.non2xx}  errors ${run.errors}  load ${run.loadavg1}`,
);

let roundTrips: RoundTrips | undefined;
if (redisServer !== undefined) roundTrips = await countRoundTrips(redisServer.url, 20);
admin?.disconnect();
await redisServer?.stop();
const loadAfter = loadavg();

interface Summary {
  id: string;
  label: string;
  rpsMedian: number;
  rpsRuns: number[];
  /** Median over rounds of (this run's req/s ÷ the bare run's req/s in the same round). */
  xBare: number;
  target?: number;
  /** The spec's verdict: median req/s ratio to bare meets the target (and no errors). */
  met?: boolean;
  /**
   * The same target applied to CPU capacity (bare's server CPU per request ÷ this one's): the
   * req/s ratio the server would reach on a core of its own. Steadier on a shared machine.
   */
  metByCpu?: boolean;
  non2xx: number;
  errors: number;
  serverCpuMedian: number;
  clientCpuMedian: number;
  serverCpuUsPerRequestMedian: number;
  /** Median over rounds of (server CPU per request ÷ bare's in the same round). */
  cpuPerRequestXBare: number;
}

const bareByRound = new Map(runs.filter((r) => r.config === 'bare').map((r) => [r.round, r.rps]));
const bareCpuByRound = new Map(
  runs.filter((r) => r.config === 'bare').map((r) => [r.round, r.serverCpuUsPerRequest]),
);
/** A case answered with errors or non-2xx measured something else (a refusal path, say). */
const clean = (row: Pick<Summary, 'non2xx' | 'errors'>): boolean =>
  row.non2xx === 0 && row.errors === 0;

const summary: Summary[] = configs.map((config) => {
  const own = runs.filter((run) => run.config === config.id);
  const ratios = own.map((run) => run.rps / bareByRound.get(run.round)!);
  const cpuRatios = own.map((run) => run.serverCpuUsPerRequest / bareCpuByRound.get(run.round)!);
  const row: Summary = {
    id: config.id,
    label: config.label,
    rpsMedian: Math.round(median(own.map((run) => run.rps))),
    rpsRuns: own.map((run) => Math.round(run.rps)),
    xBare: +median(ratios).toFixed(3),
    non2xx: own.reduce((sum, run) => sum + run.non2xx, 0),
    errors: own.reduce((sum, run) => sum + run.errors + run.timeouts, 0),
    serverCpuMedian: median(own.map((run) => run.serverCpu)),
    clientCpuMedian: median(own.map((run) => run.clientCpu)),
    serverCpuUsPerRequestMedian: median(own.map((run) => run.serverCpuUsPerRequest)),
    cpuPerRequestXBare: +median(cpuRatios).toFixed(3),
  };
  if (config.target !== undefined) {
    row.target = config.target;
    row.met = row.xBare >= config.target && clean(row);
    row.metByCpu = 1 / row.cpuPerRequestXBare >= config.target && clean(row);
  }
  return row;
});

const pad = (text: string, width: number): string => text.padEnd(width);
const right = (text: string, width: number): string => text.padStart(width);
/** Errors make the figures no result at all: INVALID rather than MISSED. */
const verdict = (met: boolean | undefined, row: Summary): string =>
  met === undefined ? '' : !clean(row) ? 'INVALID' : met ? 'MET' : 'MISSED';
console.log(
  `\n## Idempotency middleware on Fastify 5 (autocannon, ${connections} connections, ${duration} s, ${rounds} round(s), medians)\n`,
);
console.log(
  `${pad('configuration', 26)} ${right('req/s', 8)} ${right('×bare', 7)}  ${pad('target', 9)} ${pad('result', 7)} ${right('srv cpu', 7)} ${right('cli cpu', 7)} ${right('µs/req', 7)} ${right('cap×', 6)} ${pad('cap', 6)}  runs (req/s)`,
);
for (const row of summary) {
  const target = row.target === undefined ? '—' : `≥ ${row.target.toFixed(2)}×`;
  const flags = clean(row) ? '' : `  (non2xx ${row.non2xx}, errors ${row.errors})`;
  console.log(
    `${pad(row.label, 26)} ${right(String(row.rpsMedian), 8)} ${right(row.xBare.toFixed(3), 7)}  ${pad(target, 9)} ${pad(verdict(row.met, row), 7)} ${right(row.serverCpuMedian.toFixed(2), 7)} ${right(row.clientCpuMedian.toFixed(2), 7)} ${right(row.serverCpuUsPerRequestMedian.toFixed(1), 7)} ${right((1 / row.cpuPerRequestXBare).toFixed(2), 6)} ${pad(verdict(row.metByCpu, row), 6)}  ${row.rpsRuns.join(', ')}${flags}`,
  );
}
if (roundTrips !== undefined) {
  const r = roundTrips;
  console.log(
    `\nRedis round trips (MONITOR, ${r.newRequests} new requests then ${r.replays} replays): per new request claim ${r.perNewRequest.claim}, complete ${r.perNewRequest.complete}, other ${r.perNewRequest.other} (total ${r.perNewRequest.total}); per replay ${r.perReplay}; commands ${JSON.stringify(r.commands)} → target (1 claim + 1 complete) ${r.met ? 'MET' : 'MISSED'}`,
  );
} else {
  console.log('\nRedis: skipped (no redis-server).');
}
console.log(
  '\nsrv cpu / cli cpu: cores the server child / the load generator used during the window. µs/req: server CPU per request. cap×: CPU capacity ratio (bare µs/req ÷ this µs/req, median of per-round ratios), i.e. the req/s ratio on a dedicated core; cap: the target applied to it. On an oversubscribed machine req/s ratios swing with the scheduler, CPU per request much less.',
);
console.log(
  `load average before ${loadBefore.map((v) => v.toFixed(2)).join(' ')}, after ${loadAfter.map((v) => v.toFixed(2)).join(' ')} (2 cores shared; numbers are noisy, ratios are paired per round)`,
);

const out = flag('--out') ?? join(here, '..', 'results', 'http-latest.json');
writeResults(out, {
  settings: {
    duration,
    connections,
    rounds,
    warmup,
    body: BODY,
    path: PATH,
    idempotencyDir: idempotencyDir ?? null,
  },
  loadavgBefore: loadBefore,
  loadavgAfter: loadAfter,
  summary,
  redisRoundTrips: roundTrips ?? null,
  runs,
});
console.error(`bench:http: wrote ${out}`);
