import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { inCI } from './build.js';

/**
 * Integration-test plumbing for the Redis and PostgreSQL stores: find the shared services, skip
 * loudly when they are down (or fail under `CI=true`), and run throwaway `redis-server`s for
 * outage tests. Internal to this package's tests.
 */

/** The services the store tests use. */
export type ServiceKind = 'redis' | 'postgres';

const DEFAULTS: Record<ServiceKind, { env: string; url: string; start: string }> = {
  redis: {
    env: 'REDIS_URL',
    url: 'redis://127.0.0.1:6379',
    start: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
  },
  postgres: {
    env: 'DATABASE_URL',
    url: 'postgres://postgres@127.0.0.1:5432/test',
    start: 'pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start',
  },
};

function tcpReachable(host: string, port: number, timeout = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeout, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The URL of a reachable service (from `REDIS_URL` / `DATABASE_URL` or the local default), or
 * `undefined` after a loud warning when it is down. Under `CI=true` a missing service throws,
 * so the test file fails instead of silently skipping.
 */
export async function serviceUrl(kind: ServiceKind): Promise<string | undefined> {
  const { env, url: fallback, start } = DEFAULTS[kind];
  const url = process.env[env] ?? fallback;
  const parsed = new URL(url);
  const port = Number(parsed.port || (kind === 'redis' ? 6379 : 5432));
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  if (await tcpReachable(host, port)) return url;
  const message = `${kind} is not reachable at ${url} (set ${env}, or start it: ${start}; .ci/run starts it for you)`;
  if (inCI()) throw new Error(`CI=true: ${message}`);
  console.warn(`\n!!! SKIPPING ${kind} integration tests: ${message}\n`);
  return undefined;
}

/** `true` when `binary` runs (`binary --version`). Under `CI=true` a missing one throws. */
export function requireBinary(binary: string): boolean {
  const result = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  if (result.status === 0) return true;
  const message = `${binary} is not installed (apt-get install redis-server postgresql-client)`;
  if (inCI()) throw new Error(`CI=true: ${message}`);
  console.warn(`\n!!! SKIPPING tests that need ${binary}: ${message}\n`);
  return false;
}

/** A free loopback TCP port (best effort: another process may take it before we do). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** What {@link deleteKeys} needs of a Redis client (an ioredis client has it). */
export interface ScanningRedis {
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[cursor: string, keys: string[]]>;
  del(...keys: string[]): Promise<number>;
}

/**
 * Deletes the keys matching `patterns` (a run's unique prefix and `*`) with SCAN + DEL: tests and
 * benchmarks clear only what they wrote, never FLUSHALL/FLUSHDB (the Redis may be shared).
 */
export async function deleteKeys(redis: ScanningRedis, patterns: readonly string[]): Promise<void> {
  for (const pattern of patterns) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  }
}

/** A client a Redis test closes: node-redis's (`close`) or ioredis's (`disconnect`). */
export type ClosableRedis = { close(): Promise<unknown> } | { disconnect(): void };

/**
 * A Redis test's last step: deletes the keys it wrote (see {@link deleteKeys}) through `via`,
 * then closes `clients` in order (`via` too, if it is among them).
 */
export async function cleanUpRedis(
  via: ScanningRedis,
  patterns: readonly string[],
  clients: readonly ClosableRedis[],
): Promise<void> {
  await deleteKeys(via, patterns);
  for (const client of clients) {
    if ('close' in client) await client.close();
    else client.disconnect();
  }
}

/** A `redis-server` child process owned by one test. */
export interface ThrowawayRedis {
  readonly port: number;
  readonly url: string;
  /** The child's pid (to SIGSTOP/SIGCONT it). */
  readonly pid: number;
  /** SIGKILLs the server and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts the server again on the same port (and data directory, if any). */
  restart(): Promise<void>;
}

function waitForPing(port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let answer = '';
      socket.setEncoding('utf8');
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk: string) => {
        answer += chunk;
        if (answer.includes('\r\n')) {
          socket.destroy();
          if (answer.startsWith('+PONG')) resolve();
          else retry(new Error(`redis-server on ${port} answered ${answer.trim()}`));
        }
      });
      socket.once('error', (error) => retry(error));
    };
    const retry = (error: unknown): void => {
      if (Date.now() > deadline) reject(error);
      else setTimeout(attempt, 25);
    };
    attempt();
  });
}

/**
 * The arguments of a throwaway `redis-server` on `port`: loopback only, nothing persisted (no
 * RDB snapshots, no AOF). For {@link startRedisServer}, and for a benchmark that runs the server
 * under another program (valgrind).
 */
export function throwawayRedisArgs(port: number): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
}

/**
 * Spawns `redis-server` on a free loopback port, as a child that the test kills (never the
 * shared server). `extraArgs` can turn persistence on (`--appendonly yes --dir <tmp>`) for a
 * stop/restart test; by default nothing is persisted.
 */
export async function startRedisServer(extraArgs: readonly string[] = []): Promise<ThrowawayRedis> {
  let port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const args = throwawayRedisArgs(port);
    const proc = spawn('redis-server', [...args, ...extraArgs, '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code})`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPing(port, Date.now() + 10_000), exited]);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      child?.kill('SIGKILL');
      if (attempt >= 3) throw error;
      port = await freePort(); // Someone took the port between probe and bind.
    }
  }
  const kill = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGCONT'); // In case a test left it stopped.
    proc.kill('SIGKILL');
    await exited;
  };
  process.once('exit', () => child?.kill('SIGKILL'));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? -1;
    },
    stop: kill,
    restart: launch,
  };
}

// ---------------------------------------------------------------------------------------------
// What Redis's MONITOR shows of the commands clients send, for the tests and benchmarks that
// count round trips. MONITOR lists commands in execution order, so once a marker ECHOed after
// some work shows up, every command of that work has.

/** The MONITOR connection (ioredis's `monitor()` result, structurally). */
export interface MonitorFeed {
  on(event: 'monitor', listener: (time: string, args: string[], source: string) => void): unknown;
}

/** A second, ordinary connection: the markers are ECHOed on it. */
export interface EchoClient {
  echo(message: string): Promise<unknown>;
}

/** One command a client sent: its name (upper case) and first argument (a script's SHA1). */
export interface SentCommand {
  readonly command: string;
  readonly first: string | undefined;
}

export interface CommandLog {
  /** Waits until MONITOR has listed everything executed so far. */
  sync(): Promise<void>;
  /** The commands clients sent since the log began or was last cleared (not Lua's, not ECHO). */
  sent(): SentCommand[];
  clear(): void;
  /** Syncs and clears, runs `action`, syncs: the names of the commands clients sent for it. */
  roundTrips(action: () => Promise<unknown>): Promise<string[]>;
}

/** Logs what `feed` shows from now on, synced by markers sent on `admin`. */
export function commandLog(feed: MonitorFeed, admin: EchoClient): CommandLog {
  const seen: { command: string; first: string | undefined; source: string }[] = [];
  feed.on('monitor', (_time, args, source) => {
    seen.push({ command: String(args[0]).toUpperCase(), first: args[1], source });
  });
  const sync = async (): Promise<void> => {
    const marker = `marker-${Math.random()}`;
    await admin.echo(marker);
    for (let i = 0; !seen.some((entry) => entry.first === marker); i++) {
      if (i > 1_000) throw new Error('MONITOR never showed the marker');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const sent = (): SentCommand[] =>
    seen
      .filter((entry) => entry.source !== 'lua' && entry.command !== 'ECHO')
      .map(({ command, first }) => ({ command, first }));
  const clear = (): void => {
    seen.length = 0;
  };
  return {
    sync,
    sent,
    clear,
    async roundTrips(action) {
      await sync();
      clear();
      await action();
      await sync();
      return sent().map((entry) => entry.command);
    },
  };
}
