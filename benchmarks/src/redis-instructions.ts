/**
 * `pnpm bench:redis:instructions`: what the idempotency Redis store costs the Redis server, in
 * instructions per request, counted by `valgrind --tool=callgrind` around a redis-server of its
 * own. Timings of a redis-server on a 2-core machine shared with the load generator (and, here,
 * with other work) move by tens of percent from run to run; an instruction count moves by about
 * 1 % (a dictionary rehash in the window is the usual outlier), so a change to the scripts of a
 * few percent shows.
 *
 * Each configuration runs the store on one ioredis client (default options: `coalesceWrites`),
 * 32 concurrent requests per event-loop turn, so claims and completions go in batches of 32 as
 * under HTTP load: `fresh` is a claim and a completion per new key, `replay` a claim that finds
 * the completed record. The counter is zeroed after a warm-up and read after the measured
 * requests (`callgrind_control`); the whole server is counted (reading, parsing, the scripts and
 * their commands, replies, the event loop).
 *
 * Flags: `--requests <n>` (default 3200), `--rounds <n>` (3), `--base <dist dir>` (also run an
 * earlier build of `packages/idempotency`, alternated with this one). Needs `valgrind` and
 * `redis-server` on the PATH.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as RedisEntry from '@faultline/idempotency/redis';
import { freePort, throwawayRedisArgs } from '@faultline/test-support/services';
import { Redis } from 'ioredis';
import { flag, median, numberFlag } from './http-harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const requests = numberFlag('--requests', 3200);
const rounds = numberFlag('--rounds', 3);
const baseDist = flag('--base');
const BATCH = 32;

function available(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (!available('valgrind') || !available('redis-server')) {
  console.error('bench:redis:instructions: needs valgrind and redis-server on the PATH.');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'faultline-redis-instr-'));
const port = await freePort();
const child = spawn(
  'valgrind',
  [
    '--tool=callgrind',
    `--callgrind-out-file=${join(dir, 'cg.%p.out')}`,
    'redis-server',
    ...throwawayRedisArgs(port),
  ],
  { stdio: 'ignore' },
);
const url = `redis://127.0.0.1:${port}`;
const admin = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
admin.on('error', () => {}); // refused until valgrind has started the server
for (let i = 0; ; i++) {
  try {
    await admin.connect();
    await admin.ping();
    break;
  } catch {
    if (i > 150) throw new Error('redis-server under valgrind did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The server's instruction count since the last zero (`callgrind_control -d`, newest dump). */
function dumpInstructions(): number {
  execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
  const dumps = readdirSync(dir)
    .filter((name) => name.startsWith(`cg.${child.pid}.out.`))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  const total = /^(?:summary|totals): (\d+)/m.exec(readFileSync(dumps[0]!, 'utf8'))?.[1];
  if (total === undefined) throw new Error(`no totals in ${dumps[0]}`);
  return Number(total);
}

const zero = (): void => {
  execFileSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
};

const response = {
  status: 201,
  headers: [
    ['content-type', 'application/json; charset=utf-8'],
    ['content-length', '18'],
  ] as [string, string][],
  body: new TextEncoder().encode('{"id":1,"ok":true}'),
  bodyOmitted: false,
};
const TTL = 3_600_000;
let run = 0;

/** Instructions per request for one build (`dist`) and kind, on a fresh client and prefix. */
async function measure(dist: string, kind: 'fresh' | 'replay'): Promise<number> {
  const { redisStore } = (await import(
    pathToFileURL(join(dist, 'redis.js')).href
  )) as typeof RedisEntry;
  const client = new Redis(url);
  const store = redisStore({ client, prefix: `instr:${++run}:` });
  const keys: string[] = [];
  let id = 0;
  // Store keys as the server makes them: a SHA-256 in hex.
  const key = (): string => (++id).toString(16).padStart(64, '0');
  const fresh = async (count: number): Promise<void> => {
    for (let done = 0; done < count; done += BATCH) {
      const batch = Array.from({ length: BATCH }, key);
      const owners = batch.map((k) => `owner-${k.slice(-22)}`);
      const fingerprint = 'f'.repeat(64);
      await Promise.all(
        batch.map((k, i) => store.claim(k, { owner: owners[i]!, fingerprint, lockTtl: TTL })),
      );
      await Promise.all(batch.map((k, i) => store.complete(k, owners[i]!, response, TTL)));
      keys.push(...batch);
    }
  };
  const replay = async (count: number): Promise<void> => {
    for (let done = 0; done < count; done += BATCH) {
      const batch = keys.slice(done, done + BATCH);
      const results = await Promise.all(
        batch.map((k) =>
          store.claim(k, { owner: 'other', fingerprint: 'f'.repeat(64), lockTtl: TTL }),
        ),
      );
      if (results.some((result) => result.claimed)) throw new Error('a replay claimed its key');
    }
  };
  try {
    await fresh(BATCH * 20); // warm-up: scripts cached, code paths compiled
    keys.length = 0;
    if (kind === 'fresh') {
      zero();
      await fresh(requests);
    } else {
      await fresh(requests);
      zero();
      await replay(requests);
    }
    return dumpInstructions() / requests;
  } finally {
    client.disconnect();
  }
}

const builds: [string, string][] = [
  ['ours', join(here, '..', '..', 'packages', 'idempotency', 'dist')],
];
if (baseDist !== undefined) builds.push(['base', baseDist]);
const results = new Map<string, number[]>();
try {
  for (let round = 1; round <= rounds; round++) {
    for (const kind of ['fresh', 'replay'] as const) {
      const order = round % 2 === 1 ? builds : [...builds].reverse();
      for (const [name, dist] of order) {
        const perRequest = await measure(dist, kind);
        const id = `${name} ${kind}`;
        results.set(id, [...(results.get(id) ?? []), perRequest]);
        console.error(
          `  round ${round} ${id.padEnd(14)} ${Math.round(perRequest)} instructions/request`,
        );
      }
    }
  }
} finally {
  admin.disconnect();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\n## redis-server instructions per request (callgrind; ioredis, batches of ${BATCH}; ${requests} requests, ${rounds} round(s), medians)\n`,
);
for (const [id, values] of results) {
  console.log(
    `${id.padEnd(14)} ${String(Math.round(median(values))).padStart(8)}  [${values.map((v) => Math.round(v)).join(', ')}]`,
  );
}
