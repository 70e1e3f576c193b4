import { EventChannel, formatValue, type Listener } from '@faultline/core';
import { BodyCapture } from './capture.js';
import { BodyTooDeepError, MAX_JSON_DEPTH, StoreTimeoutError } from './errors.js';
import {
  type FingerprintBody,
  fingerprintBytes,
  framedText,
  sha256Hex,
  sha256HexNow,
  sha256HexNowText,
  utf8,
} from './fingerprint.js';
import { type HeaderInput, headerFilter, replayableHeaders } from './headers.js';
import { parseKeyHeader } from './key.js';
import { type IdempotencyOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type HttpResponse, type Problem, problem, problemResponse } from './problem.js';
import type { ClaimResult, Store, StoredHeader, StoredRecord, StoredResponse } from './store.js';

export type {
  ConcurrentPolicy,
  IdempotencyLogger,
  IdempotencyOptions,
  ResolvedOptions,
} from './options.js';

const OWNER = 'createIdempotency';

/** The request as an adapter hands it to {@link Idempotency.begin}. */
export interface IdempotencyRequest {
  /** HTTP method, any case. */
  readonly method: string;
  /** The URL path (no query), e.g. `/orders`. */
  readonly path: string;
  /** The raw query string, with or without the leading `?`. Default `''`. */
  readonly query?: string;
  /**
   * Request headers by lower-case name. A repeated header is an array (Node's
   * `headersDistinct`) or one comma-joined string (Fetch `Headers`); both count as several values.
   */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The body: raw bytes, text, or `{ parsed }` when a framework already parsed it. */
  readonly body?: FingerprintBody;
  /** The framework's own request object, for `scope` and `fingerprint` callbacks. */
  readonly raw?: unknown;
}

/** A response as an adapter hands it to {@link Idempotency.complete}. */
export interface CompletedResponse {
  readonly status: number;
  readonly headers: HeaderInput;
  /** The body bytes the client received (or the captured prefix when `bodyOmitted`). */
  readonly body: Uint8Array;
  /** The body outgrew the capture limit (see {@link ExecutionToken.capture}). */
  readonly bodyOmitted?: boolean;
}

/** What {@link Idempotency.begin} decided. */
export type BeginResult =
  | {
      /** Run the handler. With a token, capture its response and call `complete` or `release`. */
      readonly kind: 'execute';
      /** `undefined` when the request is not protected (rows 1, 2, fail-open). */
      readonly token: ExecutionToken | undefined;
    }
  | {
      /** Send `response` without running the handler (row 9). */
      readonly kind: 'replay';
      readonly response: HttpResponse;
    }
  | {
      /** Send `response` (an RFC 9457 problem) without running the handler. */
      readonly kind: 'reject';
      readonly problem: Problem;
      readonly response: HttpResponse;
    };

/** How a completion or release ended. */
export type FinishOutcome =
  /** The response was stored as COMPLETED. */
  | 'stored'
  /** The record was deleted (5xx, throw, or `release`). */
  | 'released'
  /** The store refused the write: this owner had lost its lock (row 15). */
  | 'fenced'
  /** The store could not be reached; the lock will expire (row 17). */
  | 'failed'
  /** The token was already finished. */
  | 'ignored';

/** How far a response had got, as the adapter saw it (see {@link Idempotency.disconnected}). */
export interface ResponseProgress {
  /** The status line was sent (or, for a Web adapter, the handler returned its `Response`). */
  readonly started: boolean;
  /** The response status (meaningful when `started`). */
  readonly status: number;
}

/** Warnings worth logging. */
export interface IdempotencyWarning {
  readonly code:
    | 'NO_SCOPE'
    | 'FAIL_OPEN'
    | 'UNREADABLE_RECORD'
    /** A store call failed after the store had been answering (or on the first call). */
    | 'STORE_FAILING'
    /** A store call succeeded after failures. */
    | 'STORE_RECOVERED';
  readonly message: string;
  readonly key?: string;
}

/** A write refused because its owner had lost the lock (fencing). */
export interface FencedEvent {
  readonly key: string;
  readonly operation: 'complete' | 'renew' | 'release';
}

/** A store call that failed or timed out. */
export interface StoreFailureEvent {
  readonly key: string;
  readonly operation: 'claim' | 'get' | 'complete' | 'renew' | 'release';
  readonly error: unknown;
}

/** A response replayed from the store. */
export interface ReplayEvent {
  readonly key: string;
  readonly status: number;
}

/** An expired lock taken over (the previous owner crashed or hung). */
export interface TakeoverEvent {
  readonly key: string;
}

/** The server core returned by {@link createIdempotency}. Adapters translate to it. */
export interface Idempotency {
  /**
   * Decides what to do with a request (see {@link BeginResult}). Store failures become a 503 or
   * fail-open; it rejects only when a `scope` or `fingerprint` callback throws (an application
   * bug, left to the framework's error handling).
   */
  begin(request: IdempotencyRequest): Promise<BeginResult>;
  /** Records the handler's response (or releases on 5xx). Never rejects. */
  complete(token: ExecutionToken, response: CompletedResponse): Promise<FinishOutcome>;
  /** Deletes the record so that a retry executes again (handler threw). Never rejects. */
  release(token: ExecutionToken): Promise<FinishOutcome>;
  /**
   * The response started but was cut off and will never be captured whole (its stream was
   * destroyed or failed, or the handler threw after sending the head). The request counts as
   * executed: retries get 410 `RESPONSE_UNAVAILABLE` (stored for `recordTtl`), never a second
   * execution. A `status` ≥ 500 releases instead, as a complete 5xx would (row 13). Never rejects.
   */
  interrupt(token: ExecutionToken, status: number): Promise<FinishOutcome>;
  /**
   * The client's connection closed before the response ended. Lease renewal stops. Unless
   * `complete`, `release` or `interrupt` comes first (a handler that goes on writing still gets
   * its whole response stored), `progress()` is asked once, lockTtl/3 later: a response that had
   * started is then {@link interrupt}ed; one that had not lets the lock expire, so a retry takes
   * over after lockTtl (the handler is hung or lost, as after a crash: row 8).
   */
  disconnected(token: ExecutionToken, progress: () => ResponseProgress): void;
  /** The store key for a client key in a scope: hash(namespace, scope, key). */
  storeKey(key: string, scope?: string): Promise<string>;
  /** Warnings: no `scope` (once), fail-open executions, unreadable records replaced. */
  onWarning(listener: Listener<IdempotencyWarning>): () => void;
  /** A renewal, completion or release refused because this owner lost its lock (row 15). */
  onFenced(listener: Listener<FencedEvent>): () => void;
  /** A store call failed or timed out (the `onStoreError` option decides what the request gets). */
  onStoreFailure(listener: Listener<StoreFailureEvent>): () => void;
  /** A stored response was replayed (row 9). */
  onReplay(listener: Listener<ReplayEvent>): () => void;
  /** An expired lock was taken over (row 8): its previous owner crashed or hung. */
  onTakeover(listener: Listener<TakeoverEvent>): () => void;
  /** The validated options, durations in ms. */
  readonly options: ResolvedOptions;
}

/** An execution in progress: the adapter keeps it from `begin` to `complete`/`release`. */
export class ExecutionToken {
  /** The store key (hash of namespace, scope and client key). */
  readonly key: string;
  /** @internal */ readonly owner: string;
  /** Largest body the record will keep. */
  readonly maxStoredBodyBytes: number;
  /** @internal */ finished = false;
  /** @internal */ stopRenewal: (() => void) | undefined;
  /** @internal Cancels the wait started by `disconnected`. */ cancelWait: (() => void) | undefined;

  /** @internal */
  constructor(key: string, owner: string, maxStoredBodyBytes: number) {
    this.key = key;
    this.owner = owner;
    this.maxStoredBodyBytes = maxStoredBodyBytes;
  }

  /** A body collector bounded by `maxStoredBodyBytes`, for adapters that see chunks. */
  capture(): BodyCapture {
    return new BodyCapture(this.maxStoredBodyBytes);
  }
}

function randomOwner(): string {
  // An unguessable fencing token: a client must not be able to forge another owner's writes.
  return crypto.randomUUID();
}

function headerValue(
  headers: IdempotencyRequest['headers'],
  name: string,
): string | readonly string[] | undefined {
  const value = headers[name];
  if (Array.isArray(value) && value.length === 0) return undefined;
  return value as string | readonly string[] | undefined;
}

/**
 * Server-side request dedup: the first request for an `Idempotency-Key` executes once, every
 * retry gets the stored response, and concurrent or mismatched reuse is refused. Framework-free:
 * adapters (`/node`, `/express`, `/fastify`, `/hono`) only translate requests and responses.
 *
 * References: draft-ietf-httpapi-idempotency-key-header; Stripe's idempotent requests; Brandur
 * Leach, "Implementing Stripe-like Idempotency Keys in Postgres"; AWS Lambda Powertools.
 */
export function createIdempotency(options: IdempotencyOptions): Idempotency {
  const { store, resolved, scope, fingerprint, replayAllow, clock, logger } =
    resolveOptions(options);
  const headerName = options.header ?? 'Idempotency-Key';
  const replayable = headerFilter(replayAllow);
  const covered = new Set(resolved.methods);

  const warnings = new EventChannel<IdempotencyWarning>();
  const fenced = new EventChannel<FencedEvent>();
  const storeFailures = new EventChannel<StoreFailureEvent>();
  const replays = new EventChannel<ReplayEvent>();
  const takeovers = new EventChannel<TakeoverEvent>();
  let warnedNoScope = false;

  const warn = (event: IdempotencyWarning): void => {
    if (warnings.hasListeners) warnings.emit(event);
    else logger?.warn(`[@faultline/idempotency] ${event.message}`);
  };

  // Store health, so that an outage is visible without subscribing to anything: the first
  // failure and every change of state are logged once (a down store otherwise shows only as
  // 503s, with the cause, e.g. a PostgreSQL authentication error, hidden).
  let storeFailing = false;
  const storeFailed = (
    operation: StoreFailureEvent['operation'],
    key: string,
    error: unknown,
  ): void => {
    storeFailures.emit({ key, operation, error });
    if (storeFailing) return;
    storeFailing = true;
    warn({
      code: 'STORE_FAILING',
      message: `the idempotency store is failing (${operation}: ${describeError(error)}); keyed requests ${
        resolved.onStoreError === 'fail-closed'
          ? 'get 503 STORE_UNAVAILABLE'
          : 'run without protection (fail-open)'
      } until it answers again`,
    });
  };
  const storeAnswered = (): void => {
    if (!storeFailing) return;
    storeFailing = false;
    warn({ code: 'STORE_RECOVERED', message: 'the idempotency store recovered' });
  };

  /**
   * Runs one store call under `storeTimeout`; the timer is always cleared. A failure (rejection
   * or timeout) is reported on `onStoreFailure` before the returned promise rejects. One promise
   * per call: this sits on every request (claim, then complete).
   */
  const call = <T>(
    operation: StoreFailureEvent['operation'],
    key: string,
    run: () => Promise<T>,
    // Background clean-ups say nothing about whether requests are served: they never move the
    // store's health (a claim that times out while its clean-up release succeeds would flap).
    health = true,
  ): Promise<T> =>
    new Promise<T>((resolvePromise, reject) => {
      let settled = false;
      const fail = (error: unknown): void => {
        if (health) storeFailed(operation, key, error);
        else storeFailures.emit({ key, operation, error });
        reject(error);
      };
      const cancel = clock.setTimer(resolved.storeTimeout, () => {
        if (settled) return;
        settled = true;
        fail(new StoreTimeoutError(operation, resolved.storeTimeout));
      });
      let pending: Promise<T>;
      try {
        pending = Promise.resolve(run());
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (value) => {
          if (settled) return;
          settled = true;
          cancel();
          if (storeFailing && health) storeAnswered();
          resolvePromise(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          cancel();
          fail(error);
        },
      );
    });

  const storeKeyText = (key: string, scopeValue: string): string =>
    framedText(['faultline-idempotency-v1', resolved.namespace, scopeValue, key]);
  const storeKey = (key: string, scopeValue = ''): Promise<string> =>
    sha256Hex(utf8(storeKeyText(key, scopeValue)));

  const reject = (
    code: Parameters<typeof problem>[0],
    detail: string,
    retryAfter?: number,
  ): BeginResult => {
    const value = problem(code, detail);
    return { kind: 'reject', problem: value, response: problemResponse(value, retryAfter) };
  };

  const replay = (key: string, stored: StoredResponse): BeginResult => {
    const headers: StoredHeader[] = stored.headers.filter(([name]) => replayable(name));
    headers.push(['idempotent-replayed', 'true']);
    if (stored.bodyOmitted) headers.push(['idempotency-body-omitted', 'true']);
    replays.emit({ key, status: stored.status });
    return { kind: 'replay', response: { status: stored.status, headers, body: stored.body } };
  };

  const startRenewal = (token: ExecutionToken): void => {
    // Row 20: renew at a third of the lease, so two renewals can fail before the lock lapses.
    const interval = resolved.lockTtl / 3;
    let cancel: (() => void) | undefined;
    let stopped = false;
    const tick = (): void => {
      cancel = undefined;
      call('renew', token.key, () => store.renew(token.key, token.owner, resolved.lockTtl)).then(
        (renewed) => {
          if (stopped) return;
          if (renewed) {
            arm();
          } else {
            stopped = true;
            fenced.emit({ key: token.key, operation: 'renew' });
          }
        },
        () => {
          // Store trouble: keep trying; if it lasts, the lock expires and the write is fenced.
          if (!stopped) arm();
        },
      );
    };
    const arm = (): void => {
      cancel = clock.setTimer(interval, tick, { unref: true });
    };
    arm();
    token.stopRenewal = () => {
      stopped = true;
      cancel?.();
      cancel = undefined;
    };
  };

  const execute = (key: string, owner: string, previous: string): BeginResult => {
    if (previous === 'unreadable') {
      warn({
        code: 'UNREADABLE_RECORD',
        message: 'an unreadable idempotency record was replaced; the request executes again',
        key,
      });
    } else if (previous === 'expired') {
      takeovers.emit({ key });
    }
    const token = new ExecutionToken(key, owner, resolved.maxStoredBodyBytes);
    startRenewal(token);
    return { kind: 'execute', token };
  };

  const storeDown = (
    key: string,
    owner: string | undefined,
    pending?: Promise<ClaimResult>,
  ): BeginResult => {
    if (owner !== undefined) {
      // The claim failed or timed out, and the request will not execute. A claim that timed out
      // may still land, even after a clean-up sent now on another connection (a pool does not
      // keep order): `abandon` (a store that can be overtaken implements it) makes sure this
      // owner's claim never holds the key whenever it lands, and a claim reported to have landed
      // late is released. Failures here only mean the lock expires on its own.
      const cleanUp =
        store.abandon === undefined
          ? () => store.release(key, owner)
          : () => store.abandon!(key, owner, resolved.lockTtl);
      call('release', key, cleanUp, false).catch(() => {});
      pending?.then(
        (late) => {
          if (late.claimed) {
            call('release', key, () => store.release(key, owner), false).catch(() => {});
          }
        },
        () => {},
      );
    }
    if (resolved.onStoreError === 'fail-open') {
      warn({
        code: 'FAIL_OPEN',
        message: 'idempotency store unavailable: request executes without protection (fail-open)',
        key,
      });
      return { kind: 'execute', token: undefined };
    }
    return reject(
      'STORE_UNAVAILABLE',
      'The idempotency store did not answer; the request was not executed. Retry with the same key.',
      1,
    );
  };

  const decide = (key: string, fp: string, record: StoredRecord): BeginResult | undefined => {
    if (record.fingerprint !== fp) {
      // Rows 7 and 10: a mismatch is permanent, so it wins over 409.
      return reject(
        'FINGERPRINT_MISMATCH',
        'This Idempotency-Key was used with a different request (method, path, query or body).',
      );
    }
    if (record.status === 'COMPLETED' && record.response !== undefined) {
      return replay(key, record.response);
    }
    return undefined;
  };

  const conflict = (): BeginResult =>
    reject(
      'CONFLICT',
      'A request with this Idempotency-Key is still being processed. Retry later with the same key.',
      1,
    );

  const begin = async (request: IdempotencyRequest): Promise<BeginResult> => {
    if (!covered.has(request.method.toUpperCase())) return { kind: 'execute', token: undefined };
    const rawKey = headerValue(request.headers, resolved.header);
    if (rawKey === undefined) {
      if (resolved.required) {
        return reject('MISSING_KEY', `This request requires an ${headerName} header.`);
      }
      return { kind: 'execute', token: undefined };
    }
    const parsed = parseKeyHeader(rawKey, resolved.maxKeyLength, resolved.strict);
    if (!parsed.ok) return reject('INVALID_KEY', `Invalid ${headerName}: ${parsed.reason}.`);

    let scopeValue: string | undefined;
    if (scope === undefined) {
      if (!warnedNoScope && !resolved.globalKeys) {
        warnedNoScope = true;
        warn({
          code: 'NO_SCOPE',
          message:
            'createIdempotency has no "scope": keys are global, so two clients sending the same key share one record. Pass scope: (request) => principal.',
        });
      }
    } else {
      // Await only a real promise: a synchronous scope (the usual case) costs no extra hop.
      const returned = scope(request);
      scopeValue = isPromiseLike(returned) ? await returned : returned;
      if (scopeValue !== undefined && typeof scopeValue !== 'string') {
        throw new TypeError(
          `${OWNER}: scope() must return a string or undefined, received ${formatValue(scopeValue)}`,
        );
      }
      if ((scopeValue === undefined || scopeValue === '') && !resolved.globalKeys) {
        // Never fall back to the global key space: this request would share records with every
        // other request without a principal (and replay their responses).
        return reject(
          'MISSING_SCOPE',
          `scope() found no principal for this request, so its ${headerName} cannot be attributed to anyone. Authenticate the request (or set globalKeys: true to share one key space).`,
        );
      }
    }
    // Small inputs hash synchronously (no promise hop); large ones go to Web Crypto.
    const keyText = storeKeyText(parsed.key, scopeValue ?? '');
    const key = sha256HexNowText(keyText) ?? (await sha256Hex(utf8(keyText)));
    let fp: string;
    if (fingerprint === undefined) {
      let fpBytes: Uint8Array;
      try {
        fpBytes = fingerprintBytes({
          method: request.method,
          path: request.path,
          query: request.query ?? '',
          contentType: firstValue(request.headers['content-type']),
          body: request.body,
        });
      } catch (error) {
        if (!(error instanceof BodyTooDeepError)) throw error;
        return reject(
          'BODY_TOO_DEEP',
          `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep; it cannot be fingerprinted.`,
        );
      }
      fp = sha256HexNow(fpBytes) ?? (await sha256Hex(fpBytes));
    } else {
      const returned = fingerprint(request);
      fp = isPromiseLike(returned) ? await returned : returned;
    }
    if (typeof fp !== 'string') {
      throw new TypeError(
        `${OWNER}: fingerprint() must return a string, received ${formatValue(fp)}`,
      );
    }

    const waitUntil =
      resolved.concurrentWait === undefined ? undefined : clock.now() + resolved.concurrentWait;
    for (;;) {
      const owner = randomOwner();
      let claim: Awaited<ReturnType<Store['claim']>>;
      let pending: Promise<ClaimResult> | undefined;
      try {
        claim = await call('claim', key, () => {
          pending = store.claim(key, {
            owner,
            fingerprint: fp,
            lockTtl: resolved.lockTtl,
            scope: scopeValue ?? '',
          });
          return pending;
        });
      } catch {
        return storeDown(key, owner, pending);
      }
      if (claim.claimed) return execute(key, owner, claim.previous);
      const decided = decide(key, fp, claim.record);
      if (decided !== undefined) return decided;
      if (waitUntil === undefined) return conflict();
      // Row 6 with { wait }: poll until the first request completes, is released, or time is up.
      let record: StoredRecord | undefined = claim.record;
      while (record !== undefined && record.status === 'IN_PROGRESS') {
        const left = waitUntil - clock.now();
        if (left <= 0) return conflict();
        await clock.sleep(Math.min(left, pollInterval(resolved.concurrentWait!)));
        try {
          record = await call('get', key, () => store.get(key));
        } catch {
          return storeDown(key, undefined);
        }
        if (record !== undefined) {
          const outcome = decide(key, fp, record);
          if (outcome !== undefined) return outcome;
        }
      }
      // Released or expired: claim again (and maybe execute).
    }
  };

  const finish = async (
    token: ExecutionToken,
    write: () => Promise<boolean>,
    operation: 'complete' | 'release',
    success: FinishOutcome,
  ): Promise<FinishOutcome> => {
    if (token.finished) return 'ignored';
    token.finished = true;
    token.stopRenewal?.();
    token.cancelWait?.();
    token.cancelWait = undefined;
    // Row 17: bounded retries; the client already has its response.
    for (let attempt = 1; attempt <= resolved.completionAttempts; attempt++) {
      try {
        if (await call(operation, token.key, write)) return success;
        fenced.emit({ key: token.key, operation });
        return 'fenced';
      } catch {
        if (attempt < resolved.completionAttempts) {
          await clock.sleep(Math.min(50 * 2 ** (attempt - 1), 1_000));
        }
      }
    }
    return 'failed';
  };

  const release = (token: ExecutionToken): Promise<FinishOutcome> =>
    finish(token, () => store.release(token.key, token.owner), 'release', 'released');

  const complete = (token: ExecutionToken, response: CompletedResponse): Promise<FinishOutcome> => {
    if (response.status >= 500 && !resolved.cacheServerErrors) return release(token);
    const omitted =
      response.bodyOmitted === true || response.body.length > resolved.maxStoredBodyBytes;
    return keep(token, {
      status: response.status,
      headers: replayableHeaders(response.headers, replayable),
      body: omitted ? new Uint8Array(0) : response.body,
      bodyOmitted: omitted,
    });
  };

  const keep = (token: ExecutionToken, stored: StoredResponse): Promise<FinishOutcome> =>
    finish(
      token,
      () => store.complete(token.key, token.owner, stored, resolved.recordTtl),
      'complete',
      'stored',
    );

  const interrupt = (token: ExecutionToken, status: number): Promise<FinishOutcome> => {
    if (status >= 500 && !resolved.cacheServerErrors) return release(token);
    const value = problem(
      'RESPONSE_UNAVAILABLE',
      `A request with this ${headerName} was executed (its response started with status ${status}), but the response was cut off before it ended and cannot be replayed. Do not retry with this key; check the outcome another way (for example, read the resource).`,
    );
    // Stored as it is (not through the replay allow-list): its own headers are fixed.
    const { headers, body } = problemResponse(value);
    return keep(token, { status: value.status, headers, body, bodyOmitted: false });
  };

  const disconnected = (token: ExecutionToken, progress: () => ResponseProgress): void => {
    if (token.finished || token.cancelWait !== undefined) return;
    token.stopRenewal?.();
    // The lease has at least 2/3 of lockTtl left (renewed every lockTtl/3), so a decision at
    // lockTtl/3 is written while the lock is still ours.
    token.cancelWait = clock.setTimer(
      resolved.lockTtl / 3,
      () => {
        token.cancelWait = undefined;
        if (token.finished) return;
        const now = progress();
        if (now.started) void interrupt(token, now.status);
      },
      { unref: true },
    );
  };

  return {
    begin,
    complete,
    release,
    interrupt,
    disconnected,
    storeKey: (key, scopeValue) => storeKey(key, scopeValue ?? ''),
    onWarning: (listener) => warnings.subscribe(listener),
    onFenced: (listener) => fenced.subscribe(listener),
    onStoreFailure: (listener) => storeFailures.subscribe(listener),
    onReplay: (listener) => replays.subscribe(listener),
    onTakeover: (listener) => takeovers.subscribe(listener),
    options: resolved,
  };
}

/** An error for a log line: name, message and code (e.g. a PostgreSQL SQLSTATE), no stack. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const text = `${error.name}: ${error.message}`;
    return typeof code === 'string' || typeof code === 'number' ? `${text} (code ${code})` : text;
  }
  return formatValue(error);
}

function pollInterval(wait: number): number {
  return Math.max(5, Math.min(100, wait / 20));
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function firstValue(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}
