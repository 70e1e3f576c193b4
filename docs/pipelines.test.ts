/**
 * Every pipeline the documentation shows runs, as written, against a real local HTTP server
 * through outage → recovery and fast → slow, and recovers within the bound stated here (and in
 * the docs). See `pipelines/harness.ts` for how (real sockets, virtual time).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  codeBlock,
  codeBlocks,
  loadBlock,
  type Phase,
  type PhaseResult,
  recoveredAfter,
  root,
  runPhases,
  type Subject,
  sourceFile,
  summary,
  VirtualHttp,
} from './pipelines/harness.js';

type Module = Record<string, unknown>;
interface Executable {
  execute(fn: unknown, signal?: unknown): Promise<unknown>;
}
const policyOf = (module: Module, name: string): Executable => module[name] as Executable;

interface Case {
  /** Where the block is, and a string that picks it out (a source file: `marker` is ''). */
  readonly file: string;
  readonly marker: string;
  /** For a source file: what the case calls. */
  readonly label?: string;
  /** Virtual ms between calls (default 250). */
  readonly think?: number;
  /** Names the block defines that the test needs. */
  readonly exports: readonly string[];
  /** One call as the documentation makes it. */
  readonly subject: (module: Module, http: VirtualHttp) => Subject;
  /** Virtual ms from the server's return until every call succeeds. */
  readonly recovery: number;
  /** Virtual ms from the latency shift (20 → 400 ms) until every call succeeds. */
  readonly slow: number;
  /** How long the outage lasts (longer than any learning window in the pipeline). */
  readonly outage?: number;
  /** Also run an outage of reset connections (no HTTP answer at all) with the same bound. */
  readonly resets?: boolean;
  /**
   * The pipeline sheds load in an outage (a breaker, a throttle): at most this many requests
   * reach the server in the outage's last 10 s (40 calls, each up to its maxAttempts without).
   */
  readonly failsFast?: number;
}

let http: VirtualHttp;
// A block may install a global undici dispatcher (the resilience interceptor, on the system
// clock); the scenarios exercise the pipelines the block built, so the original is put back.
let dispatcher: Dispatcher;
const restoreDispatcher = (): void => setGlobalDispatcher(dispatcher);
// The blocks log what they do (state changes, retries): keep the test output readable.
const quiet = ['log', 'info', 'warn', 'error'] as const;
let spies: Array<{ mockRestore(): void }> = [];
beforeEach(async () => {
  dispatcher = getGlobalDispatcher();
  http = await VirtualHttp.start();
  (globalThis as { url?: string }).url = http.url();
  // Free names the blocks assume (docs/snippets.d.ts): an Express app to mount middleware on.
  (globalThis as { app?: unknown }).app = { use() {} };
  spies = quiet.map((method) => vi.spyOn(console, method).mockImplementation(() => {}));
});
afterEach(async () => {
  restoreDispatcher();
  for (const spy of spies) spy.mockRestore();
  delete (globalThis as { url?: string }).url;
  delete (globalThis as { app?: unknown }).app;
  await http.stop();
});

/** Measured recovery times, printed at the end (the figures the docs state bounds for). */
const measured: Array<[string, string, number]> = [];
afterAll(() => {
  const lines = measured.map(
    ([name, what, ms]) => `  ${what.padEnd(8)} ${String(Math.round(ms)).padStart(7)} ms  ${name}`,
  );
  process.stdout.write(
    `documented pipelines, recovery measured (virtual ms):\n${lines.join('\n')}\n`,
  );
});

/** Requests that reached the server in the `ms` before `end`. */
function requestsBefore(end: number, ms: number): number {
  return http.server.requests.filter((r) => r.at >= end - ms && r.at < end).length;
}

const THINK = 250; // ms between calls
const healthy = (latency: number) =>
  ({
    kind: 'answer',
    status: 200,
    latency,
    body: '{"stock":7,"items":["a"]}',
    headers: { 'content-type': 'application/json' },
  }) as const;
const down = { kind: 'answer', status: 503, latency: 0, body: 'busy' } as const;

async function load(c: Case): Promise<Module> {
  http.server.behave(healthy(20));
  const block = c.file.endsWith('.md') ? codeBlock(c.file, c.marker) : sourceFile(c.file);
  const module = await http.drive(loadBlock(block, c.exports, http.clock));
  restoreDispatcher();
  return module;
}

async function outageThenRecovery(
  c: Case,
  failure: Phase['behaviour'] = down,
): Promise<PhaseResult[]> {
  const module = await load(c);
  const subject = c.subject(module, http);
  const outage = c.outage ?? 20_000;
  return http.drive(
    runPhases(
      http,
      subject,
      [
        { behaviour: healthy(20), duration: 10_000 },
        { behaviour: failure, duration: outage },
        // The server comes back slower than before (a cold start): 120 ms per answer.
        { behaviour: healthy(120), duration: Math.max(30_000, c.recovery + 10_000) },
      ],
      c.think ?? THINK,
    ),
  );
}

async function fastThenSlow(c: Case): Promise<PhaseResult[]> {
  const module = await load(c);
  const subject = c.subject(module, http);
  return http.drive(
    runPhases(
      http,
      subject,
      [
        { behaviour: healthy(20), duration: 20_000 },
        { behaviour: healthy(400), duration: Math.max(30_000, c.slow + 10_000) },
      ],
      c.think ?? THINK,
    ),
  );
}

// fetchTask as the blocks import it (the shims re-export the real one).
const { fetchTask } = await import('@faultline/retry');

// The bounds most cases share. With a breaker: in the outage only its probes reach the server,
// and calls succeed again within its break.
const breakerBounds = { failsFast: 5, recovery: 6_000, slow: 0 } as const;
// Without one: calls succeed again from the first ones after the server returns.
const promptBounds = { recovery: 500, slow: 0 } as const;

type Bounds = Omit<Case, 'file' | 'marker' | 'exports' | 'subject'>;

/** A case whose call is the blocks' usual one: `<name>.execute(fetchTask(<server URL + path>))`. */
function fetching(file: string, marker: string, name: string, bounds: Bounds, path?: string): Case {
  return {
    file,
    marker,
    exports: [name],
    subject: (m, h) => ({ call: () => policyOf(m, name).execute(fetchTask(h.url(path))) }),
    ...bounds,
  };
}

/** A case whose call is `<name>.execute(<fn>)`, both defined by the block. */
function running(
  file: string,
  marker: string,
  [name, fn]: readonly [policy: string, fn: string],
  bounds: Bounds,
  isOk?: Subject['isOk'],
): Case {
  return {
    file,
    marker,
    exports: [name, fn],
    subject: (m) => {
      const call = () => policyOf(m, name).execute(m[fn]);
      return isOk === undefined ? { call } : { call, isOk };
    },
    ...bounds,
  };
}

/** A case whose call is a `standardHttpPipeline`'s: `<name>.fetch(<server URL + path>)`. */
function httpClient(file: string, marker: string, name: string, path: string): Case {
  return {
    file,
    marker,
    exports: [name],
    subject: (m, h) => ({
      call: () => (m[name] as { fetch(url: string): Promise<Response> }).fetch(h.url(path)),
    }),
    recovery: 6_000,
    slow: 0,
  };
}

interface OrdersClient {
  stock(): Promise<Response>;
  order(item: string): Promise<Response>;
}

/** A case of the outbound-client example: `ordersClient(url)` and one of its calls. */
function ordersClient(label: string, call: (client: OrdersClient) => Promise<Response>): Case {
  return {
    file: 'examples/outbound-client/src/client.ts',
    marker: '',
    label,
    exports: [],
    subject: (m, h) => {
      const client = (
        m.ordersClient as (url: string, o: { attemptTimeout: number }) => OrdersClient
      )(h.server.url, { attemptTimeout: 1_000 });
      return { call: () => call(client) };
    },
    ...breakerBounds,
  };
}

const answersStock = (value: unknown): boolean => (value as { stock?: unknown }).stock === 7;

const cases: Case[] = [
  fetching('docs/guides/hedging.md', 'const reads = pipeline(', 'reads', promptBounds),
  {
    file: 'packages/chaos/README.md',
    marker: 'const api = pipeline(',
    exports: ['api', 'flakyFetch'],
    subject: (m, h) => ({
      call: () =>
        policyOf(m, 'api').execute(
          fetchTask(h.url(), undefined, m.flakyFetch as Parameters<typeof fetchTask>[2]),
        ),
    }),
    failsFast: 5, // the breaker's probes
    recovery: 6_000,
    slow: 0,
  },
  fetching(
    'README.md',
    'const github = pipeline(',
    'github',
    {
      ...breakerBounds,
      resets: true,
      outage: 70_000, // longer than the adaptive timeout's 60 s window
      slow: 2_000,
    },
    '/zen',
  ),
  fetching('docs/getting-started.md', '// 4. each attempt, learned', 'api', {
    ...breakerBounds,
    resets: true,
    outage: 70_000,
    slow: 2_000,
  }),
  fetching(
    'docs/getting-started.md',
    'const api = pipeline(timeout(10_000), retries, breaker, timeout(perAttempt));',
    'api',
    { ...breakerBounds, outage: 70_000, slow: 2_000 },
  ),
  fetching('packages/faultline/README.md', 'const api = pipeline(', 'api', breakerBounds),
  fetching('packages/retry/README.md', 'const api = pipeline(', 'api', promptBounds),
  fetching('docs/guides/retry.md', 'const api = pipeline(', 'api', promptBounds),
  fetching('docs/guides/breaker.md', 'const api = pipeline(', 'api', breakerBounds),
  running(
    'docs/guides/timeout.md',
    'const inventory = pipeline(',
    ['inventory', 'getStock'],
    promptBounds,
  ),
  running(
    'docs/guides/core.md',
    'const recommendations = pipeline(',
    ['recommendations', 'getRecommendations'],
    breakerBounds,
    // The fallback's empty list is the degraded answer; the server's answer is an object.
    (value) => !Array.isArray(value),
  ),
  fetching('docs/guides/core.md', 'const timed = pipeline(', 'timed', promptBounds),
  running(
    'packages/core/README.md',
    'const inventory = pipeline(',
    ['inventory', 'getStock'],
    promptBounds,
    answersStock,
  ),
  fetching(
    'packages/core/README.md',
    "const github = named('github'",
    'github',
    promptBounds,
    '/zen',
  ),
  running('packages/timeout/README.md', 'const users = pipeline(', ['users', 'getUsers'], {
    outage: 70_000,
    recovery: 500,
    slow: 2_500, // no retry: each censoring step (50 → 100 → 200 → 400 → 800 ms) costs a call
  }),
  {
    file: 'packages/breaker/README.md',
    marker: 'async function getRepo()',
    exports: ['getRepo'],
    subject: (m) => ({ call: () => (m.getRepo as () => Promise<unknown>)() }),
    failsFast: 5, // the breaker's probes
    // The break grows while probes fail (exponential, full jitter): after a 20 s outage the
    // break in progress is at most e(4) = 40 s.
    recovery: 41_000,
    slow: 0,
  },
  {
    file: 'packages/breaker/README.md',
    marker: 'adaptiveThrottle({ k: 2 })',
    exports: ['api'],
    subject: (m, h) => ({ call: () => policyOf(m, 'api').execute(fetchTask(h.url())) }),
    outage: 120_000, // the throttle reacts to the accept ratio of its 2-minute window
    think: 1_000,
    failsFast: 8, // about k × what the backend accepts: it sheds ≥ 75 % here (10 calls × 3)
    recovery: 360_000,
    slow: 0,
  },
  {
    file: 'docs/guides/idempotency.md',
    marker: 'const post = idempotentFetch(fetch, {',
    exports: ['post'],
    subject: (m, h) => ({
      call: () =>
        (m.post as (url: string, init: RequestInit) => Promise<Response>)(h.url('/payments'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ amount: 1000, currency: 'EUR' }),
        }),
    }),
    recovery: 500,
    slow: 0,
  },
  running(
    'docs/migration.md',
    'const policy = pipeline(timeout(10_000), retries);',
    ['policy', 'fetchJson'],
    promptBounds,
    answersStock,
  ),
  {
    file: 'docs/migration.md',
    marker: 'fallback({ shouldHandle: handleErrors(TimeoutError)',
    exports: ['policy'],
    subject: (m, h) => ({
      call: () =>
        policyOf(m, 'policy').execute(({ signal }: { signal: AbortSignal }) =>
          fetch(h.url(), { signal }),
        ),
    }),
    recovery: 500,
    slow: 0,
  },
  {
    file: 'docs/migration.md',
    marker: 'const service = pipeline(',
    exports: ['service', 'callService', 'cached'],
    subject: (m) => ({
      call: () =>
        policyOf(m, 'service').execute(({ signal }: { signal: AbortSignal }) =>
          (m.callService as (id: string, signal: AbortSignal) => Promise<unknown>)('42', signal),
        ),
      isOk: (value) => value !== m.cached,
    }),
    failsFast: 5, // the breaker's probes
    recovery: 31_000,
    slow: 0,
  },
  fetching('docs/migration.md', 'decorrelatedJitterV2({ median: 128', 'policy', {
    ...breakerBounds,
    recovery: 11_000,
  }),
  ordersClient('ordersClient().stock()', (client) => client.stock()),
  ordersClient("ordersClient().order('widget')", (client) => client.order('widget')),
  {
    file: 'packages/limits/README.md',
    marker: 'const inventory = pipeline(concurrencyLimit(',
    exports: ['partner', 'inventory'],
    think: 2_500, // the documented partner allows 30 calls a minute
    subject: (m, h) => ({
      call: () =>
        policyOf(m, 'partner').execute(() =>
          policyOf(m, 'inventory').execute(({ signal }: { signal: AbortSignal }) =>
            fetch(h.url('/stock'), { signal }),
          ),
        ),
    }),
    recovery: 2_500,
    slow: 0,
  },
  httpClient('README.md', "standardHttpPipeline({ name: 'github' })", 'zen', '/zen'),
  httpClient(
    'docs/guides/http.md',
    "standardHttpPipeline({ name: 'inventory' })",
    'inventory',
    '/stock/42',
  ),
  httpClient(
    'packages/undici/README.md',
    "standardHttpPipeline({ name: 'github' })",
    'github',
    '/zen',
  ),
  fetching(
    'docs/guides/observing-resilience.md',
    "name: 'github-total'",
    'github',
    breakerBounds,
    '/repos/x/y',
  ),
  {
    file: 'docs/guides/overload.md',
    marker: 'const inventory = pipeline(',
    exports: [], // `stock` is exported by the block
    subject: (m) => ({ call: () => (m.stock as (sku: string) => Promise<unknown>)('42') }),
    recovery: 500,
    slow: 0,
  },
  fetching(
    'packages/telemetry/README.md',
    'instrumentOpenTelemetry()',
    'github',
    breakerBounds,
    '/zen',
  ),
];

/** An outage (503s, or reset connections) and the recovery after it, with the case's bounds. */
async function outageCase(c: Case, what: 'outage' | 'resets'): Promise<void> {
  const failure = what === 'resets' ? ({ kind: 'reset' } as const) : down;
  const [warm, outage, recovery] = await outageThenRecovery(c, failure);
  expect(
    warm!.calls.every((call) => call.ok),
    `warm: ${summary(warm!)}`,
  ).toBe(true);
  if (c.failsFast !== undefined) {
    // Once open (or throttling), calls fail fast: in the outage's last 10 s only probes
    // reach the server.
    const last10s = requestsBefore(recovery!.start, 10_000);
    expect(
      last10s,
      `outage: ${summary(outage!)}; ${last10s} requests in its last 10 s`,
    ).toBeLessThanOrEqual(c.failsFast);
  }
  measured.push([`${c.file}: ${c.marker || c.label}`, what, recoveredAfter(recovery!)]);
  expect(recoveredAfter(recovery!), `recovery: ${summary(recovery!)}`).toBeLessThanOrEqual(
    c.recovery,
  );
}

describe('documented pipelines: outage → recovery and fast → slow, against a local server', () => {
  for (const c of cases) {
    describe(`${c.file}: ${c.marker || c.label}`, () => {
      it(`outage → recovery: every call succeeds from ${c.recovery} ms after the server returns`, async () => {
        await outageCase(c, 'outage');
      }, 60_000);

      if (c.resets) {
        it(`outage of reset connections → recovery: every call succeeds from ${c.recovery} ms after`, async () => {
          await outageCase(c, 'resets');
        }, 60_000);
      }

      it(`fast → slow (20 → 400 ms): every call succeeds from ${c.slow} ms after the shift`, async () => {
        const [fast, slow] = await fastThenSlow(c);
        expect(
          fast!.calls.every((call) => call.ok),
          `fast: ${summary(fast!)}`,
        ).toBe(true);
        measured.push([`${c.file}: ${c.marker || c.label}`, 'slow', recoveredAfter(slow!)]);
        expect(recoveredAfter(slow!), `slow: ${summary(slow!)}`).toBeLessThanOrEqual(c.slow);
      }, 60_000);
    });
  }
});

describe('simulated pipelines: the simulator models the outage', () => {
  /** Runs the block of `file` at `marker` on the virtual clock, and returns its `exports`. */
  const simulated = (file: string, marker: string, exports: string[]) =>
    http.drive(loadBlock(codeBlock(file, marker), exports, http.clock));

  it("packages/sim/README.md: goodput is back within 1 s of the outage's end", async () => {
    const module = await simulated('packages/sim/README.md', 'const policy = pipeline(', [
      'summary',
    ]);
    const buckets = (module.summary as { buckets: Array<{ goodput: number }> }).buckets; // 1 s each
    const before = buckets.slice(5, 20).reduce((sum, b) => sum + b.goodput, 0) / 15;
    // The outage is 20–30 s; from the first second after it, goodput is back to normal.
    for (const [second, bucket] of buckets.entries()) {
      if (second >= 30) expect(bucket.goodput, `second ${second}`).toBeGreaterThan(0.9 * before);
    }
    measured.push(['packages/sim/README.md (simulated)', 'outage', 0]);
  }, 60_000);

  it('docs/guides/simulator.md: the retry storm recovers within 2 s', async () => {
    const module = await simulated('docs/guides/simulator.md', 'const mine: StormVariant', [
      'report',
    ]);
    const [result] = (module.report as { results: Array<{ timeToRecover: number }> }).results;
    measured.push(['docs/guides/simulator.md (simulated)', 'outage', result!.timeToRecover]);
    expect(result!.timeToRecover).toBeLessThanOrEqual(2_000);
  }, 60_000);
});

/**
 * Blocks that build a pipeline but are not run above, and why. Anything else that builds one
 * must get a case: a documented pipeline is a promise about failures.
 */
const notRun: ReadonlyArray<readonly [file: string, marker: string, why: string]> = [
  [
    'packages/fleet/README.md',
    'const payments = pipeline(',
    'needs a Redis shared by several processes: packages/fleet/src/fleet.redis.test.ts runs fleetBudget and fleetBreaker in 4 Node processes',
  ],
  [
    'docs/guides/http.md',
    'policyRegistry({',
    'makes no request; its pipelines are standardHttpPipeline()s, run by the http.md and undici README cases',
  ],
  [
    'docs/guides/simulator.md',
    'defineComparison({',
    'a comparison for the faultline-sim CLI: the simulator models its outage (20–30 s)',
  ],
  [
    'docs/guides/fault-injection.md',
    'const server = http.createServer(',
    'a complete program with its own server on real time: docs/fault-injection.test.ts runs it, with injection on and off',
  ],
  [
    'docs/guides/fault-injection.md',
    'const clock = new VirtualClock();',
    'a unit test on a VirtualClock that makes no request (packages/chaos/src/compose.test.ts runs the same)',
  ],
];

describe('every documented pipeline runs in a test', () => {
  it('each block that builds a pipeline is a case above (or says why not)', () => {
    const files = [
      'README.md',
      'examples/README.md',
      ...['docs', 'docs/concepts', 'docs/guides'].flatMap((dir) =>
        readdirSync(join(root, dir))
          .filter((name) => name.endsWith('.md'))
          .map((name) => `${dir}/${name}`),
      ),
      ...readdirSync(join(root, 'packages'))
        .map((name) => `packages/${name}/README.md`)
        .filter((file) => existsSync(join(root, file))),
    ];
    const covered = (file: string, code: string): boolean =>
      cases.some((c) => c.file === file && c.marker !== '' && code.includes(c.marker)) ||
      notRun.some(([f, marker]) => f === file && code.includes(marker)) ||
      (file === 'packages/sim/README.md' && code.includes('const policy = pipeline(')) ||
      (file === 'docs/guides/simulator.md' && code.includes('const mine: StormVariant'));
    const missing: string[] = [];
    for (const file of files) {
      for (const block of codeBlocks(file)) {
        if (!/^(ts|typescript|js|javascript)$/.test(block.lang) || block.info.includes('no-check'))
          continue;
        if (!/\b(pipeline|standardHttpPipeline)\(/.test(block.code)) continue;
        if (!covered(file, block.code)) missing.push(`${file}:${block.line}`);
      }
    }
    expect(missing, 'add a case to docs/pipelines.test.ts for each').toEqual([]);
  });
});
