/**
 * Runs the pipelines the documentation shows, as written, against a real local HTTP server whose
 * behaviour the test scripts (outage → recovery, fast → slow), on virtual time.
 *
 * - **As written.** A code block is taken from its markdown file and written to a module under
 *   `docs/.pipelines/` (gitignored) with its imports of `faultline` / `@faultline/*` pointed at
 *   generated shims. The shims re-export the real package and hand the test's `VirtualClock` to
 *   every factory that takes a `clock` and was not given one. Nothing else in the block changes.
 * - **Real sockets.** `globalThis.fetch` is wrapped while a case runs: every request goes to the
 *   local {@link FlakyServer} (whatever origin the block names: nothing leaves 127.0.0.1), tagged
 *   with an id.
 * - **Virtual time.** The server's latency runs on the same `VirtualClock`. The driver moves time
 *   only while every request in flight is waiting at the server on that clock (or hanging);
 *   otherwise it lets real I/O run. So a 70 s outage takes well under a second of real time, and
 *   a 120 ms answer is 120 ms on the pipeline's timeline whatever the machine's load.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { VirtualClock } from '@faultline/clock';
import { type FlakyServer, startFlakyServer, watchSettled } from '@faultline/test-support';
import { setDocClock } from './current-clock.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const generated = join(root, 'docs', '.pipelines');

// ---------------------------------------------------------------------------------------------
// Code blocks

/** One fenced code block of a markdown file. */
export interface CodeBlock {
  /** Path from the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly info: string;
  readonly code: string;
}

/** Every fenced block of `file` (path from the repository root). */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { line: number; lang: string; info: string; body: string[] } | undefined;
  lines.forEach((text, index) => {
    const fence = /^```(\S*)\s*(.*)$/.exec(text);
    if (open === undefined && fence) {
      open = { line: index + 1, lang: fence[1]!, info: fence[2]!, body: [] };
    } else if (open !== undefined && text.startsWith('```')) {
      blocks.push({
        file,
        line: open.line,
        lang: open.lang,
        info: open.info,
        code: open.body.join('\n'),
      });
      open = undefined;
    } else if (open !== undefined) {
      open.body.push(text);
    }
  });
  return blocks;
}

/** The one TypeScript block of `file` whose code contains `marker`. */
export function codeBlock(file: string, marker: string): CodeBlock {
  const found = codeBlocks(file).filter(
    (b) => /^(ts|typescript)$/.test(b.lang) && b.code.includes(marker),
  );
  if (found.length !== 1) {
    throw new Error(
      `${file}: expected one ts block containing ${JSON.stringify(marker)}, found ${found.length}`,
    );
  }
  return found[0]!;
}

/** A whole source file (an example's module), loaded like a block. */
export function sourceFile(file: string): CodeBlock {
  return { file, line: 1, lang: 'ts', info: '', code: readFileSync(join(root, file), 'utf8') };
}

// ---------------------------------------------------------------------------------------------
// Loading a block with the test's clock

/**
 * Factories that take a clock: the index of their options argument, and whether they also take
 * a `random` (seeded in tests, so that jitter and throttling draws repeat exactly).
 */
const CLOCKED: Readonly<Record<string, readonly [number, boolean]>> = {
  timeout: [1, false],
  adaptiveTimeout: [0, false],
  retry: [0, true],
  ratioBudget: [0, false],
  circuitBreaker: [0, true],
  adaptiveThrottle: [0, true],
  bulkhead: [0, false],
  rateLimiter: [0, false],
  concurrencyLimit: [0, false],
  standardHttpPipeline: [0, true],
  hedge: [0, false],
  learnedDelay: [0, false],
  chaosFault: [0, true],
  chaosLatency: [0, true],
  chaosOutcome: [0, true],
  chaosBehavior: [0, true],
  deadlineFromHeaders: [1, false],
  withRequestDeadline: [2, false],
};

const shims = new Map<string, string>();

/** A module that re-exports `specifier` with the test's clock given to its clocked factories. */
async function shimFor(specifier: string): Promise<string> {
  const known = shims.get(specifier);
  if (known !== undefined) return known;
  const real = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
  const file = join(generated, 'shims', `${specifier.replace(/[^A-Za-z0-9]+/g, '_')}.ts`);
  const clockModule = relative(
    dirname(file),
    fileURLToPath(new URL('./current-clock.ts', import.meta.url)),
  );
  const lines = [
    '// Generated by docs/pipelines/harness.ts: the real module, with the test clock injected.',
    `import * as real from ${JSON.stringify(specifier)};`,
    `import { withDocClock } from ${JSON.stringify(clockModule)};`,
    `export * from ${JSON.stringify(specifier)};`,
  ];
  for (const [name, [index, random]] of Object.entries(CLOCKED)) {
    if (typeof real[name] !== 'function') continue;
    lines.push(
      `export const ${name} = (...args: any[]) => { args[${index}] = withDocClock(args[${index}], ${random}); return (real.${name} as any)(...args); };`,
    );
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
  shims.set(specifier, file);
  return file;
}

let generation = 0;

/**
 * Writes `code` as a module whose `faultline` / `@faultline/*` imports go through the shims,
 * exporting `names`, and starts importing it with `clock` as the pipelines' clock. The import
 * promise runs the block's top-level code (its own example call, on virtual time): drive it.
 */
export async function loadBlock(
  block: CodeBlock,
  names: readonly string[],
  clock: VirtualClock,
): Promise<Record<string, unknown>> {
  let code = block.code;
  const specifiers = new Set(
    [...code.matchAll(/from '((?:faultline|@faultline\/[a-z-]+)(?:\/[a-z-]+)?)'/g)].map(
      (m) => m[1]!,
    ),
  );
  for (const specifier of specifiers) {
    const shim = await shimFor(specifier);
    code = code.replaceAll(`from '${specifier}'`, `from ${JSON.stringify(shim)}`);
  }
  if (names.length > 0) code += `\nexport { ${names.join(', ')} };\n`;
  const file = join(
    generated,
    `${block.file.replace(/[^A-Za-z0-9]+/g, '_')}_L${block.line}_${++generation}.ts`,
  );
  mkdirSync(generated, { recursive: true });
  writeFileSync(
    file,
    `// Generated from ${block.file}:${block.line} by docs/pipelines/harness.ts\n${code}`,
  );
  // The shims read the clock when a factory runs, during the module's evaluation: it stays set
  // until the case stops (cases run one at a time).
  setDocClock(clock);
  return import(/* @vite-ignore */ pathToFileURL(file).href) as Promise<Record<string, unknown>>;
}

// ---------------------------------------------------------------------------------------------
// Virtual HTTP: a real server, real sockets, virtual time

/** A `VirtualClock` that knows when its next timer is due, so the driver can jump to it. */
export class DrivenClock extends VirtualClock {
  readonly #active = new Set<{ readonly due: number }>();

  override setTimer(ms: number, callback: () => void, options?: { unref?: boolean }): () => void {
    const entry = { due: this.now() + (ms > 0 ? ms : 0) };
    this.#active.add(entry);
    const cancel = super.setTimer(
      ms,
      () => {
        this.#active.delete(entry);
        callback();
      },
      options,
    );
    return () => {
      this.#active.delete(entry);
      cancel();
    };
  }

  /** When the earliest pending timer is due (`Infinity` when none is). */
  get nextDue(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.#active) if (entry.due < next) next = entry.due;
    return next;
  }
}

const ID_HEADER = 'x-flaky-id';

/** The local server, the clock, and the wrapped `fetch` of one case. */
export class VirtualHttp {
  readonly clock: DrivenClock;
  readonly server: FlakyServer;
  readonly #inFlight = new Set<string>();
  readonly #realFetch = globalThis.fetch;
  #ids = 0;

  private constructor(server: FlakyServer, clock: DrivenClock) {
    this.server = server;
    this.clock = clock;
  }

  static async start(): Promise<VirtualHttp> {
    const clock = new DrivenClock();
    const server = await startFlakyServer({
      sleep: (ms, signal) => clock.sleep(ms, signal),
      now: () => clock.now(),
      idHeader: ID_HEADER,
    });
    const http = new VirtualHttp(server, clock);
    globalThis.fetch = http.#fetch;
    return http;
  }

  /** A URL on the local server with this path (the `url` the docs' examples assume). */
  url(path = '/items/42'): string {
    return `${this.server.url}${path}`;
  }

  async stop(): Promise<void> {
    globalThis.fetch = this.#realFetch;
    setDocClock(undefined);
    await this.server.close();
  }

  /** Every request goes to the local server, tagged so that the driver can follow it. */
  readonly #fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const id = String(++this.#ids);
    const local = (url: string): string => {
      const parsed = new URL(url);
      return `${this.server.url}${parsed.pathname}${parsed.search}`;
    };
    const request = input instanceof Request ? input : undefined;
    const target =
      request !== undefined ? new Request(local(request.url), request) : local(String(input));
    const headers = new Headers(init?.headers ?? request?.headers);
    headers.set(ID_HEADER, id);
    this.#inFlight.add(id);
    const response = this.#realFetch(target, { ...init, headers });
    const done = (): void => {
      this.#inFlight.delete(id);
    };
    response.then(done, done);
    return response;
  };

  /** Nothing but virtual time can move: every request in flight waits on it at the server. */
  #quiescent(): boolean {
    for (const id of this.#inFlight) if (!this.server.waiting(id)) return false;
    return true;
  }

  /**
   * Settles `promise`. Virtual time jumps to the next timer whenever every request in flight
   * waits on virtual time (at the server), so simulated minutes cost milliseconds; otherwise real
   * I/O runs (a request on the wire, a module loading, a body arriving). Fails after `realLimit`
   * ms of real time.
   */
  async drive<T>(promise: Promise<T>, { realLimit = 40_000 } = {}): Promise<T> {
    const call = watchSettled(promise);
    const giveUp = Date.now() + realLimit;
    let idle = 0;
    while (!call.done) {
      if (Date.now() > giveUp) {
        const waiting = [...this.#inFlight].map(
          (id) => `${id}:${this.server.waiting(id) ? 'waiting' : 'moving'}`,
        );
        throw new Error(
          `drive: not settled after ${realLimit} ms of real time (virtual ${this.clock.now()} ms; requests in flight ${waiting.join(' ') || 'none'}; ${this.clock.pendingTimers} timers)`,
        );
      }
      const next = this.clock.nextDue;
      if (next !== Number.POSITIVE_INFINITY && this.#quiescent()) {
        idle = 0;
        await this.clock.advance(Math.max(0, next - this.clock.now()));
      } else if (++idle < 20) {
        await new Promise((resolve) => setImmediate(resolve));
      } else {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    return promise;
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/** One call of a scenario, in virtual ms. */
export interface CallRecord {
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  /** The status, or the error's name. */
  readonly detail: string;
}

/** A documented pipeline under test. */
export interface Subject {
  /** Makes one call the way the documentation does. */
  readonly call: () => Promise<unknown>;
  /** Whether a call's value is the answer the caller wanted (default: a `Response` with `ok`). */
  readonly isOk?: (value: unknown) => boolean;
}

const defaultOk = (value: unknown): boolean => value instanceof Response && value.ok;

/** Calls one after another, `think` ms apart, until virtual time `until`. */
export async function callUntil(
  http: VirtualHttp,
  subject: Subject,
  until: number,
  think: number,
): Promise<CallRecord[]> {
  const records: CallRecord[] = [];
  const isOk = subject.isOk ?? defaultOk;
  while (http.clock.now() < until) {
    const start = http.clock.now();
    let ok: boolean;
    let detail: string;
    try {
      const value = await subject.call();
      ok = isOk(value);
      detail = value instanceof Response ? String(value.status) : 'value';
      if (value instanceof Response) await value.arrayBuffer().catch(() => {});
    } catch (error) {
      ok = false;
      detail = (error as { name?: string } | null)?.name ?? String(error);
    }
    records.push({ start, end: http.clock.now(), ok, detail });
    await http.clock.sleep(think);
  }
  return records;
}

export interface Phase {
  /** What the server does during the phase. */
  readonly behaviour: Parameters<FlakyServer['behave']>[0];
  /** Virtual ms. */
  readonly duration: number;
}

export interface PhaseResult {
  readonly start: number;
  readonly calls: readonly CallRecord[];
  /** Requests that reached the server during the phase. */
  readonly requests: number;
}

/** Runs the phases in order, calling `subject` every `think` ms; returns each phase's calls. */
export async function runPhases(
  http: VirtualHttp,
  subject: Subject,
  phases: readonly Phase[],
  think: number,
): Promise<PhaseResult[]> {
  const results: PhaseResult[] = [];
  for (const phase of phases) {
    const start = http.clock.now();
    const before = http.server.requests.length;
    http.server.behave(phase.behaviour);
    const calls = await callUntil(http, subject, start + phase.duration, think);
    results.push({ start, calls, requests: http.server.requests.length - before });
  }
  return results;
}

/**
 * How long after the phase began the pipeline recovered: the start of the first call of the
 * run of successes that lasts to the end of the phase, relative to the phase's start (Infinity
 * when the last call failed).
 */
export function recoveredAfter(phase: PhaseResult): number {
  const calls = phase.calls;
  if (calls.length === 0 || !calls.at(-1)!.ok) return Number.POSITIVE_INFINITY;
  let first = calls.length - 1;
  while (first > 0 && calls[first - 1]!.ok) first--;
  return first === 0 ? 0 : calls[first]!.start - phase.start;
}

/** A one-line summary of a phase's calls, for assertion messages. */
export function summary(phase: PhaseResult): string {
  const failed = phase.calls.filter((c) => !c.ok);
  const kinds = new Map<string, number>();
  for (const call of failed) kinds.set(call.detail, (kinds.get(call.detail) ?? 0) + 1);
  return `${phase.calls.length} calls, ${failed.length} failed (${[...kinds].map(([k, n]) => `${k}×${n}`).join(', ')}), ${phase.requests} requests; recovered after ${recoveredAfter(phase)} ms`;
}
