/**
 * The plumbing the HTTP benchmarks share (`http.ts`, `http-peers.ts`): a throwaway
 * `redis-server` of the benchmark's own (never a shared one), server children that report their
 * CPU time over IPC, autocannon runs, and clean-up by key prefix (SCAN + DEL, never FLUSHALL).
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { startRedisServer } from '@faultline/test-support/services';
import autocannon from 'autocannon';

/**
 * Writes a benchmark's results file: `results` as indented JSON after the date and the Node
 * version, creating the directory of `out` if needed.
 */
export function writeResults(out: string, results: Readonly<Record<string, unknown>>): void {
  mkdirSync(dirname(out), { recursive: true });
  const stamped = { date: new Date().toISOString(), node: process.version, ...results };
  writeFileSync(out, `${JSON.stringify(stamped, null, 2)}\n`);
}

/** A `redis-server` child on a free loopback port. */
export interface RedisServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway `redis-server` (never a shared one; test-support's, as the tests do), or
 * `undefined` when not installed.
 */
export async function startRedis(): Promise<RedisServer | undefined> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  return startRedisServer();
}

// SCAN + DEL by pattern, never FLUSHALL: the same clean-up as the tests'.
export { deleteKeys } from '@faultline/test-support/services';

/**
 * The flags both HTTP benchmarks take: `--duration <s>` (default 10), `--connections <n>` (50),
 * `--rounds <n>` (3), `--warmup <s>` (2), `--quick` (1 round, and the benchmark's own shorter
 * `quick` duration and warm-up), `--only <id,...>`, and `--cpu-prof <dir>` (as `cpuProfArgs`, the
 * server children's `execArgv`).
 */
export function loadFlags(quick: { readonly duration: number; readonly warmup: number }) {
  const isQuick = process.argv.includes('--quick');
  const cpuProfDir = flag('--cpu-prof');
  return {
    duration: numberFlag('--duration', isQuick ? quick.duration : 10),
    connections: numberFlag('--connections', 50),
    rounds: numberFlag('--rounds', isQuick ? 1 : 3),
    warmup: numberFlag('--warmup', isQuick ? quick.warmup : 2),
    only: flag('--only')?.split(','),
    cpuProfArgs: cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`],
  };
}

/** The request every HTTP benchmark sends: a trivial `POST /orders` with an idempotency key. */
export const BODY = '{"item":42,"quantity":1}';
export const PATH = '/orders';
export const KEY_HEADER = 'idempotency-key';

let keyCounter = 0;
/** What every key this process sends starts with (to delete them by pattern afterwards). */
export const keyPrefix = `bench-${process.pid}-${Date.now().toString(36)}`;
/** A key never sent before. */
export const freshKey = (): string => `${keyPrefix}-${++keyCounter}`;

/** One `POST /orders` with `key`, its body read. */
export async function post(url: string, key: string): Promise<Response> {
  const response = await fetch(`${url}${PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [KEY_HEADER]: key },
    body: BODY,
  });
  await response.arrayBuffer();
  return response;
}

/**
 * The keys of a run: a fresh one per request, or (`'replay'`) one key sent once beforehand and
 * awaited until `replayed(response, attempt)` says a second request with it was a replay
 * (completion is asynchronous), so that every measured request is a replay.
 */
export async function runKeys(
  kind: 'fresh' | 'replay',
  url: string,
  replayed: (response: Response, attempt: number) => boolean,
): Promise<() => string> {
  if (kind === 'fresh') return freshKey;
  const key = freshKey();
  const first = await post(url, key);
  if (first.status >= 300) throw new Error(`priming request answered ${first.status}`);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (replayed(await post(url, key), attempt)) return () => key;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the primed key never replayed');
}

/** Each round's order of `list`: rotated, so that no configuration always runs after another. */
export function roundOrder<T>(list: readonly T[], round: number): T[] {
  return list.map((_, i) => list[(i + round - 1) % list.length]!);
}

/**
 * Measures every configuration once per round, rounds interleaved (each in its
 * {@link roundOrder}), logging `line(config, run, round)` to stderr after each; returns the runs
 * in the order they ran.
 */
export async function measureInRounds<C, R>(
  configs: readonly C[],
  rounds: number,
  measure: (config: C, round: number) => Promise<R>,
  line: (config: C, run: R, round: number) => string,
): Promise<R[]> {
  const runs: R[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const config of roundOrder(configs, round)) {
      const run = await measure(config, round);
      runs.push(run);
      console.error(line(config, run, round));
    }
  }
  return runs;
}

/** What a server child sends over IPC. */
export type ChildMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'cpu'; readonly userMs: number; readonly systemMs: number }
  | { readonly type: 'heap'; readonly usedBytes: number };

/** A server child process. */
export interface ServerChild {
  readonly url: string;
  readonly pid: number;
  /** Its CPU time so far (user + system), ms. */
  cpuMs(): Promise<number>;
  /**
   * Turns the child's `--trace-gc-nvp` on or off (one line per collection on its stdout, read
   * with `options.captureStdout`); resolves with its used heap bytes at that moment.
   */
  gcTrace(on: boolean): Promise<number>;
  /** What the child printed so far (with `options.captureStdout`). */
  stdout(): string;
  close(): Promise<void>;
}

/**
 * Forks `script` with `args` and waits for its `ready` message. `execArgv` (e.g. `--cpu-prof`)
 * and `env` go to the child.
 */
export async function startChild(
  script: string,
  args: readonly string[],
  options: {
    readonly execArgv?: readonly string[];
    readonly env?: NodeJS.ProcessEnv;
    /** Run the child under another program (e.g. `valgrind`, with `execArgv` its arguments). */
    readonly execPath?: string;
    readonly captureStdout?: boolean;
  } = {},
): Promise<ServerChild> {
  const child: ChildProcess = fork(script, [...args], {
    execArgv: [...(options.execArgv ?? [])],
    stdio: ['ignore', options.captureStdout ? 'pipe' : 'inherit', 'inherit', 'ipc'],
    env: options.env ?? process.env,
    ...(options.execPath === undefined ? {} : { execPath: options.execPath }),
  });
  let printed = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    printed += text;
  });
  const next = <T extends ChildMessage['type']>(
    type: T,
  ): Promise<Extract<ChildMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: ChildMessage): void => {
        if (message.type !== type) return;
        cleanup();
        resolve(message as Extract<ChildMessage, { type: T }>);
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`${script} ${args.join(' ')} exited with ${code}`));
      };
      const cleanup = (): void => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  const { port } = await next('ready');
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    async cpuMs() {
      const reply = next('cpu');
      child.send('cpu');
      const { userMs, systemMs } = await reply;
      return userMs + systemMs;
    },
    async gcTrace(on) {
      const reply = next('heap');
      child.send(on ? 'gc-trace-on' : 'gc-trace-off');
      return (await reply).usedBytes;
    },
    stdout: () => printed,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // 'close' rather than 'exit': also waits for a captured stdout to be read to its end.
      const exited = once(child, 'close');
      child.send('close');
      // SIGTERM lets a --cpu-prof child still write its profile; SIGKILL only if that hangs.
      const term = setTimeout(() => child.kill('SIGTERM'), 5_000);
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(term);
      clearTimeout(kill);
    },
  };
}

/** One autocannon run's figures. */
export interface Load {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

/**
 * autocannon POSTs of `body` to `url` for `seconds` over `connections`, each request with the
 * key header set by `key()` (a `setupRequest` hook, so that every configuration costs the
 * client the same).
 */
export async function load(
  url: string,
  options: {
    readonly seconds: number;
    readonly connections: number;
    readonly body: string;
    readonly keyHeader: string;
    readonly key: () => string;
    /** Offered load in requests per second over all connections; default: as fast as answered. */
    readonly rate?: number;
  },
): Promise<Load> {
  const result = await autocannon({
    url,
    connections: options.connections,
    ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    duration: options.seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: options.body,
    requests: [
      {
        setupRequest: (request) => {
          request.headers = { ...request.headers, [options.keyHeader]: options.key() };
          return request;
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value after `name` on the command line. */
export function flag(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

/** A positive number after `name` on the command line, or `fallback`. */
export function numberFlag(name: string, fallback: number): number {
  const value = flag(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new RangeError(`${name}: received ${value}`);
  return parsed;
}

/**
 * The child side of {@link startChild}: reports `{ ready, port }`, answers `'cpu'` with the CPU
 * time so far, and runs `shutdown` (then exits) on `'close'` or when the parent goes away.
 */
export function serveParent(port: number, shutdown: () => Promise<void>): void {
  const send = (message: ChildMessage): void => {
    process.send?.(message);
  };
  const stop = (): void => {
    void shutdown().finally(() => process.exit(0));
  };
  send({ type: 'ready', port });
  process.on('message', (message: unknown) => {
    if (message === 'cpu') {
      const usage = process.cpuUsage();
      send({ type: 'cpu', userMs: usage.user / 1000, systemMs: usage.system / 1000 });
    } else if (message === 'gc-trace-on' || message === 'gc-trace-off') {
      // Read before the flag changes: the collections traced are exactly those in between.
      const usedBytes = getHeapStatistics().used_heap_size;
      setFlagsFromString(message === 'gc-trace-on' ? '--trace-gc-nvp' : '--no-trace-gc-nvp');
      send({ type: 'heap', usedBytes });
    } else if (message === 'close') {
      stop();
    }
  });
  process.on('disconnect', stop);
}
