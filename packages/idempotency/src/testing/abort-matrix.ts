import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createIdempotency, type Idempotency } from '../idempotency.js';
import type { Store } from '../store.js';
import type { TestApi } from './conformance.js';
import type { RunningServer } from './http-scenarios.js';

/**
 * The abort matrix: every way a client can go away, against every way a handler can end, over
 * real loopback sockets. The client goes away before sending the body, half-way through it,
 * while the handler runs, or after the first bytes of the response (written in a loop, or
 * streamed); the handler then succeeds, throws or hangs. Whatever happens, the server must not
 * crash, no promise may reject unhandled, a handler that acted is never executed a second time
 * (a retry gets the stored response, or `RESPONSE_UNAVAILABLE` when the response was cut off and
 * could not be captured whole), and no lock outlives `lockTtl` after the client left.
 *
 * Internal to this package's tests: each adapter's test file calls {@link describeAbortMatrix}
 * with a server that implements the three {@link MatrixMode}s.
 */

/** How the route answers. */
export type MatrixMode =
  /** Waits, then answers 201 with a small JSON body in one piece. */
  | 'plain'
  /** Sends the head and `first|`, waits, then writes `second|`, `third|` and ends (a loop). */
  | 'written'
  /** Returns a stream that yields `first|`, waits, then `second|`, `third|` and ends. */
  | 'stream';

/** How the handler ends once the test lets it go on (read from the `x-behaviour` header). */
export type Behaviour = 'ok' | 'throw' | 'hang';

/** When the client goes away. */
export type AbortPhase =
  | 'before-body'
  | 'mid-body'
  | 'in-handler'
  | 'mid-response-written'
  | 'mid-response-stream';

/** What the route implementations report to and wait for. */
export interface MatrixControl {
  /** The handler started for `key` (counts executions). */
  started(key: string): void;
  /** Resolves when the test lets the handler for `key` go on (after the client went away). */
  proceed(key: string): Promise<void>;
}

/**
 * Starts a real server (127.0.0.1, ephemeral port) with the adapter in front of `POST
 * /m/:mode`. The route reads `idempotency-key` and `x-behaviour`, calls `control.started(key)`,
 * then for `plain` awaits `control.proceed(key)` and answers 201 JSON; for `written` writes the
 * head (200, text/plain) and `first|`, awaits `proceed`, then writes `second|` and `third|` and
 * ends; for `stream` answers with a stream (the framework's idiom) that yields `first|`, awaits
 * `proceed`, then yields `second|`, `third|` and ends. `throw` throws (or errors the stream) after
 * `proceed`; `hang` never goes on.
 */
export type StartMatrixServer = (
  idempotency: Idempotency,
  control: MatrixControl,
) => Promise<RunningServer>;

/** What a retry after the cut must see, per cell. */
type Expected =
  | { readonly kind: 'executed'; readonly executions: number }
  | { readonly kind: 'replay'; readonly body: string }
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'replay-or-unavailable'; readonly body: string };

interface Cell {
  readonly phase: AbortPhase;
  readonly behaviour: Behaviour;
  readonly mode: MatrixMode;
  readonly expected: Expected;
}

/** Options for {@link describeAbortMatrix}. */
export interface AbortMatrixOptions {
  /** The store the server core uses (memory, Redis, PostgreSQL). */
  readonly store: () => Store | Promise<Store>;
  /** Called once after the matrix with the store (close connections...). */
  readonly cleanup?: (store: Store) => void | Promise<void>;
  /** `lockTtl` of the core (ms). Default 600. */
  readonly lockTtl?: number;
  /** Only these phases (the "core cases" run on shared stores). Default: all. */
  readonly phases?: readonly AbortPhase[];
  /** Only these behaviours. Default: all. */
  readonly behaviours?: readonly Behaviour[];
  /**
   * What a retry gets after a streamed response was cut: `'unavailable'` when the framework
   * destroys the stream with the connection (Node streams), `'replay'` when the adapter can read
   * the rest of it itself (Web streams). Default `'unavailable'`.
   */
  readonly streamCut?: 'unavailable' | 'replay';
}

const FULL_STREAM = 'first|second|third|';
const BODY = '{"item":"book","qty":1}';

function cells(options: AbortMatrixOptions): Cell[] {
  const all: Cell[] = [];
  const behaviours = options.behaviours ?? (['ok', 'throw', 'hang'] as const);
  const phases = options.phases ?? [
    'before-body',
    'mid-body',
    'in-handler',
    'mid-response-written',
    'mid-response-stream',
  ];
  for (const phase of phases) {
    for (const behaviour of behaviours) {
      let mode: MatrixMode = 'plain';
      let expected: Expected;
      switch (phase) {
        case 'before-body':
        case 'mid-body':
          // The handler never ran: the retry is the first execution.
          expected = { kind: 'executed', executions: 1 };
          break;
        case 'in-handler':
          expected =
            behaviour === 'ok'
              ? { kind: 'replay', body: '' }
              : // throw: released (row 14); hang: nothing was sent, the lock lapses after
                // lockTtl and the retry takes over (row 8, as for a crashed owner).
                { kind: 'executed', executions: 2 };
          break;
        case 'mid-response-written':
          mode = 'written';
          // The handler keeps writing after the client left: its whole response is captured.
          // A throw or a hang after the response started: the response is unavailable.
          expected =
            behaviour === 'ok' ? { kind: 'replay', body: FULL_STREAM } : { kind: 'unavailable' };
          break;
        case 'mid-response-stream':
          mode = 'stream';
          expected =
            behaviour === 'ok' && options.streamCut === 'replay'
              ? { kind: 'replay', body: FULL_STREAM }
              : { kind: 'unavailable' };
          break;
      }
      all.push({ phase, behaviour, mode, expected });
    }
  }
  return all;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A raw loopback connection to `url`, and what it has received so far (as latin1 text). */
async function rawConnection(url: URL): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect(Number(url.port), url.hostname);
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  return { socket, received: () => received };
}

/** The head of a keyed JSON POST of {@link BODY}, plus extra header lines. */
function postHead(url: URL, key: string, extra: readonly string[] = []): string {
  return [
    `POST ${url.pathname}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    'Content-Type: application/json',
    `Content-Length: ${BODY.length}`,
    `Idempotency-Key: ${key}`,
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/**
 * One request over a raw socket that the client destroys at `phase`. Resolves once the socket is
 * destroyed.
 */
async function cutRequest(
  base: string,
  cell: Cell,
  key: string,
  executions: () => number,
): Promise<void> {
  const url = new URL(`/m/${cell.mode}`, base);
  const { socket, received } = await rawConnection(url);
  const head = postHead(url, key, [`X-Behaviour: ${cell.behaviour}`]);
  switch (cell.phase) {
    case 'before-body':
      socket.write(head);
      await sleep(50);
      break;
    case 'mid-body':
      socket.write(head + BODY.slice(0, 10));
      await sleep(50);
      break;
    case 'in-handler':
      socket.write(head + BODY);
      await until(() => executions() >= 1, `the handler for ${key} to start`);
      break;
    case 'mid-response-written':
    case 'mid-response-stream':
      socket.write(head + BODY);
      await until(() => received().includes('first|'), `the first body bytes for ${key}`);
      break;
  }
  socket.destroy();
}

/**
 * POSTs {@link BODY} to `base + path` with `key` over a raw socket and destroys the socket once
 * the response has shown its first body bytes, or `until()` holds. For the per-item disconnect
 * tests.
 */
export async function postAndCut(
  base: string,
  path: string,
  key: string,
  options: { readonly until?: () => boolean } = {},
): Promise<void> {
  const url = new URL(path, base);
  const { socket, received } = await rawConnection(url);
  socket.write(postHead(url, key) + BODY);
  const afterHead = (): boolean => {
    const text = received();
    const head = text.indexOf('\r\n\r\n');
    return head >= 0 && text.length > head + 4;
  };
  await until(options.until ?? afterHead, 'the moment to cut the connection');
  socket.destroy();
}

/** The retry after a cut: the same keyed POST of {@link BODY}, answered in full. */
export function postAgain(base: string, path: string, key: string): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: BODY,
    signal: AbortSignal.timeout(10_000),
  });
}

/** A response body that takes ~600 ms: `part-0;` … `part-19;`, 30 ms apart. */
export function slowParts(): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < 20; i++) {
        yield Buffer.from(`part-${i};`);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })(),
  );
}

/**
 * Issue 14, item 3, for one adapter: the client cuts the streamed response of `url + path` after
 * its first bytes, then retries a second later (past a 600 ms `lockTtl`): the retry gets 410
 * `RESPONSE_UNAVAILABLE` and the handler (`calls()`) ran once.
 */
export async function assertCutResponseUnavailable(
  url: string,
  path: string,
  calls: () => number,
): Promise<void> {
  await postAndCut(url, path, 'k');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const reply = await postAgain(url, path, 'k');
  assert.equal(reply.status, 410);
  assert.equal(((await reply.json()) as { code?: unknown }).code, 'RESPONSE_UNAVAILABLE');
  assert.equal(calls(), 1);
}

interface Retry {
  readonly status: number;
  readonly replayed: boolean;
  readonly body: string;
  readonly code: string | undefined;
}

async function retry(base: string, mode: MatrixMode, key: string): Promise<Retry> {
  const response = await fetch(`${base}/m/${mode}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-behaviour': 'ok' },
    body: BODY,
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.text();
  let code: string | undefined;
  if (response.headers.get('content-type') === 'application/problem+json') {
    code = (JSON.parse(body) as { code?: string }).code;
  }
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed') === 'true',
    body,
    code,
  };
}

/**
 * Registers the abort matrix for one adapter: one test, all cells concurrently on one server,
 * each with its own key.
 */
export function describeAbortMatrix(
  name: string,
  start: StartMatrixServer,
  options: AbortMatrixOptions,
  api: TestApi,
): void {
  const { describe, it } = api;
  const lockTtl = options.lockTtl ?? 600;
  describe(`abort matrix: ${name}`, () => {
    it('no crash, no unhandled rejection, at most one execution of a handler that acted, no lock past lockTtl', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => {
        unhandled.push(reason);
      };
      process.on('unhandledRejection', onUnhandled);
      const store = await options.store();
      const idempotency = createIdempotency({ store, lockTtl, scope: () => 'matrix' });
      const counts = new Map<string, number>();
      const gates = new Map<string, () => void>();
      const waiting = new Map<string, Promise<void>>();
      const gate = (key: string): Promise<void> => {
        let promise = waiting.get(key);
        if (promise === undefined) {
          promise = new Promise<void>((resolve) => gates.set(key, resolve));
          waiting.set(key, promise);
        }
        return promise;
      };
      const control: MatrixControl = {
        started: (key) => counts.set(key, (counts.get(key) ?? 0) + 1),
        proceed: (key) => gate(key),
      };
      const server = await start(idempotency, control);
      const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const failures: string[] = [];
      try {
        await Promise.all(
          cells(options).map(async (cell) => {
            const key = `${cell.phase}.${cell.behaviour}.${run}`;
            const label = `${cell.phase} × ${cell.behaviour}`;
            const executions = (): number => counts.get(key) ?? 0;
            try {
              gate(key);
              await cutRequest(server.url, cell, key, executions);
              const cutAt = Date.now();
              // Let the server see the close before the handler goes on.
              await sleep(50);
              gates.get(key)?.();
              // No lock past lockTtl: by then the record is completed, released or expired.
              await sleep(Math.max(0, cutAt + lockTtl + 400 - Date.now()));
              const storeKey = await idempotency.storeKey(key, 'matrix');
              const record = await store.get(storeKey);
              if (record?.status === 'IN_PROGRESS') {
                failures.push(`${label}: still IN_PROGRESS ${lockTtl + 400} ms after the cut`);
                return;
              }
              const before = executions();
              const reply = await retry(server.url, cell.mode, key);
              const after = executions();
              const expected = cell.expected;
              const got = `status ${reply.status}, replayed ${reply.replayed}, code ${reply.code}, executions ${before}→${after}, body ${JSON.stringify(reply.body.slice(0, 60))}`;
              const unavailable =
                reply.status === 410 && reply.code === 'RESPONSE_UNAVAILABLE' && reply.replayed;
              let ok: boolean;
              switch (expected.kind) {
                case 'executed':
                  ok = !reply.replayed && after === expected.executions && reply.status < 300;
                  break;
                case 'replay':
                  ok =
                    reply.replayed &&
                    after === 1 &&
                    reply.status < 300 &&
                    (expected.body === '' || reply.body === expected.body);
                  break;
                case 'unavailable':
                  ok = unavailable && after === 1;
                  break;
                case 'replay-or-unavailable':
                  ok =
                    after === 1 &&
                    (unavailable || (reply.replayed && reply.body === expected.body));
                  break;
              }
              if (!ok) failures.push(`${label}: expected ${JSON.stringify(expected)}, got ${got}`);
            } catch (error) {
              failures.push(`${label}: ${String(error)}`);
            }
          }),
        );
        // Still serving: the process did not crash and the server did not wedge.
        const healthKey = `health.${run}`;
        gate(healthKey);
        gates.get(healthKey)?.();
        const health = await retry(server.url, 'plain', healthKey);
        assert.equal(health.status, 201, 'the server still answers');
        assert.deepEqual(failures, [], failures.join('\n'));
        assert.deepEqual(unhandled, [], 'no unhandled rejection');
      } finally {
        for (const open of gates.values()) open();
        process.off('unhandledRejection', onUnhandled);
        await server.close();
        await options.cleanup?.(store);
      }
    }, 60_000);
  });
}
