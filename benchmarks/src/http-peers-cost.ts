/**
 * `pnpm bench:http:peers:cost`: what one fresh-key request costs the server children of
 * `bench:http:peers` (`http-peers-server.ts`), counted rather than timed, so that a change of a
 * few percent shows on a shared 2-core machine where req/s and CPU µs move by tens of percent.
 *
 * The client is a few raw keep-alive sockets, one request at a time each (`POST /orders`, the
 * same body as `bench:http:peers`, a new `idempotency-key` per request): fixed work per request.
 * After `--warmup` requests it counts `--requests` more:
 * - default: bytes allocated and bytes promoted to the old generation per request, and the
 *   collections, from the child's `--trace-gc-nvp` lines (switched on for the window only;
 *   allocated = freed by the collections + growth of the used heap). Promotion is what makes a
 *   young-generation collection expensive: a request graph kept alive past one is copied.
 * - `--callgrind`: user-space instructions per request (all threads; `valgrind --tool=callgrind`
 *   with instrumentation switched on after the warm-up and 500 more requests, `node
 *   --single-threaded-gc` so that collections run on the main thread and count the same each
 *   run). Slow: minutes per configuration. Also the count without V8's compilers (see
 *   `callgrindCounts`): JIT compilation still runs after the warm-up and moves the total.
 *   `callgrind_annotate` on the written file (path printed) shows which V8 functions the count
 *   is in (GC, IC misses, JIT code as addresses).
 *
 * Flags: `--framework express|fastify` (default express), `--middleware <list>` (default
 * `bare,faultline,node-idempotency`), `--store memory|redis` (Redis: a `redis-server` of its own),
 * `--base <dist dir>` (also our middleware from an earlier build of `packages/idempotency`),
 * `--requests <n>` (6000; callgrind 3000), `--warmup <n>` (2000; callgrind 4000),
 * `--connections <n>` (4), `--callgrind`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BODY, flag, KEY_HEADER, PATH, startChild, startRedis } from './http-harness.js';
import type { ServerSpec } from './http-peers-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const callgrind = process.argv.includes('--callgrind');
const framework = (flag('--framework') ?? 'express') as ServerSpec['framework'];
const middlewares = (flag('--middleware') ?? 'bare,faultline,node-idempotency').split(
  ',',
) as ServerSpec['middleware'][];
const store = (flag('--store') ?? 'memory') as ServerSpec['store'];
const base = flag('--base');
const count = (name: string, fallback: number): number => {
  const value = Number(flag(name) ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name}: ${flag(name)}`);
  return value;
};
const requests = count('--requests', callgrind ? 3000 : 6000);
const warmup = count('--warmup', callgrind ? 4000 : 2000);
const connections = count('--connections', 4);

let sent = 0;
const prefix = `cost-${process.pid}-${Date.now().toString(36)}`;

/** `n` requests over `connections` sockets, each waiting for its response before the next. */
async function drive(port: number, n: number): Promise<void> {
  const each = Math.ceil(n / connections);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const socket: Socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      let buffered = '';
      let done: (() => void) | undefined;
      socket.setEncoding('latin1').on('data', (text: string) => {
        buffered += text;
        const head = buffered.indexOf('\r\n\r\n');
        if (head < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, head))?.[1] ?? 0);
        if (buffered.length < head + 4 + length) return;
        if (!buffered.startsWith('HTTP/1.1 2')) throw new Error(buffered.slice(0, 200));
        buffered = buffered.slice(head + 4 + length);
        done?.();
      });
      for (let i = 0; i < each; i++) {
        await new Promise<void>((resolve) => {
          done = resolve;
          socket.write(
            `POST ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${KEY_HEADER}: ${prefix}-${++sent}\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
          );
        });
      }
      socket.destroy();
    }),
  );
}

/**
 * A callgrind dump's instructions: the total, and those spent in V8's compilers (TurboFan,
 * Maglev, Sparkplug, the bytecode generator, their assemblers and zones). Tiering is not done
 * after the warm-up (4–24 % of the window), and how much of it lands in the window differs from
 * run to run, so the count without it is the steadier one. Both from `callgrind_annotate`'s
 * per-function listing, written to a file: with JIT code it outgrows a pipe's buffer (ENOBUFS).
 */
function callgrindCounts(dump: string): { total: number; compiling: number } {
  const listing = `${dump}.annotate`;
  const fd = openSync(listing, 'w');
  let status: number | null;
  try {
    status = spawnSync('callgrind_annotate', ['--threshold=100', dump], {
      stdio: ['ignore', fd, 'ignore'],
    }).status;
  } finally {
    closeSync(fd);
  }
  const text = readFileSync(listing, 'utf8');
  rmSync(listing, { force: true });
  const count = (line: string): number =>
    Number(/^\s*([\d,]+) /.exec(line)?.[1]?.replaceAll(',', '') ?? Number.NaN);
  let total = Number.NaN;
  let compiling = 0;
  for (const line of text.split('\n')) {
    if (line.includes('PROGRAM TOTALS')) total = count(line);
    else if (COMPILER.test(line)) compiling += count(line) || 0;
  }
  if (status !== 0 || !Number.isFinite(total)) {
    throw new Error(`callgrind_annotate ${dump}: exit ${status}, no PROGRAM TOTALS line`);
  }
  return { total, compiling };
}
const COMPILER =
  /v8::internal::(compiler|maglev|baseline|interpreter)::|v8::internal::(Assembler|MacroAssembler|Zone)\b/;

const redis = store === 'redis' ? await startRedis() : undefined;
if (store === 'redis' && redis === undefined) throw new Error('no redis-server');
const specs: Array<[string, ServerSpec]> = middlewares.map((middleware) => [
  middleware,
  { framework, middleware, store, ...(redis ? { redisUrl: redis.url } : {}) },
]);
if (base !== undefined) {
  specs.push([
    'faultline-base',
    {
      framework,
      middleware: 'faultline',
      store,
      dist: base,
      ...(redis ? { redisUrl: redis.url } : {}),
    },
  ]);
}

console.error(
  `bench:http:peers:cost: ${framework}, ${store}, ${warmup} + ${requests} fresh-key requests over ${connections} connections${callgrind ? ', callgrind' : ''}`,
);
for (const [name, spec] of specs) {
  const out = callgrind ? join(tmpdir(), `callgrind.${process.pid}.${framework}.${name}.out`) : '';
  const server = await startChild(join(here, 'http-peers-server.js'), [JSON.stringify(spec)], {
    captureStdout: !callgrind,
    ...(callgrind
      ? {
          execPath: 'valgrind',
          execArgv: [
            '-q',
            '--tool=callgrind',
            '--instr-atstart=no',
            `--callgrind-out-file=${out}`,
            process.execPath,
            '--single-threaded-gc',
          ],
        }
      : {}),
  });
  const port = Number(new URL(server.url).port);
  let window: { before: number; after: number } | undefined;
  try {
    await drive(port, warmup);
    if (callgrind) {
      const control = (...args: string[]) =>
        execFileSync('callgrind_control', [...args, String(server.pid)], { stdio: 'ignore' });
      control('-i', 'on');
      await drive(port, 500);
      control('-z');
      await drive(port, requests);
      control('-d');
      // The dump is `${out}.1` (the first dump of this process).
      const { total, compiling } = callgrindCounts(`${out}.1`);
      console.log(
        `${framework}/${name}/${store}: ${Math.round(total / requests)} instructions/request, ${Math.round((total - compiling) / requests)} without V8's compilers (${((100 * compiling) / total).toFixed(1)} % compiling) (${out}.1)`,
      );
    } else {
      const before = await server.gcTrace(true);
      await drive(port, requests);
      window = { before, after: await server.gcTrace(false) };
    }
  } finally {
    await server.close();
  }
  if (window !== undefined) {
    // Read after the child exited: V8 prints the trace through a buffered stdout.
    const { before, after } = window;
    let freed = 0;
    let promoted = 0;
    let scavenges = 0;
    let markCompacts = 0;
    for (const line of server.stdout().split('\n')) {
      const sizes = /total_size_before=(\d+) total_size_after=(\d+)/.exec(line);
      if (sizes === null) continue;
      freed += Number(sizes[1]) - Number(sizes[2]);
      promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
      if (/\bgc=s\b/.test(line)) scavenges++;
      else markCompacts++;
    }
    const perRequest = (bytes: number): string => `${Math.round(bytes / requests)} B`;
    console.log(
      `${framework}/${name}/${store}: allocated ${perRequest(freed + after - before)}/request, promoted ${perRequest(promoted)}/request, ${scavenges} scavenges, ${markCompacts} mark-compacts`,
    );
  }
}
await redis?.stop();
