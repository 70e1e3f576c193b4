import type { Clock } from '@faultline/clock';
import {
  EventChannel,
  formatValue,
  type Listener,
  type PolicyIdentity,
  publishEvent,
  type TelemetryAttributes,
  telemetry,
} from '@faultline/core';
import { isThenable } from '@faultline/core/internal';
import { DeadlineQueue } from './deadline-queue.js';
import { BodyTooDeepError, MAX_JSON_DEPTH } from './errors.js';
import type {
  FencedEvent,
  IdempotencyWarning,
  ReplayEvent,
  StoreFailureEvent,
  TakeoverEvent,
} from './events.js';
import { ExecutionToken, Lease, leaseOfToken, type Renewer } from './execution-token.js';
import {
  fingerprintBytes,
  fingerprintText,
  framedText,
  sha256Hex,
  sha256HexNow,
  sha256HexNowText,
  utf8,
} from './fingerprint.js';
import { type HeaderFilter, headerFilter, replayableHeaders } from './headers.js';
import { parseKeyHeader } from './key.js';
import type { IdempotencyLogger, ResolvedOptions, ValidatedOptions } from './options.js';
import { type ProblemCode, problem, problemResponse } from './problem.js';
import type { CompletedResponse, IdempotencyRequest, ResponseProgress } from './request.js';
import type { BeginResult, FinishOutcome, Idempotency } from './server-types.js';
import type {
  ClaimPrevious,
  ClaimResult,
  Store,
  StoredHeader,
  StoredRecord,
  StoredResponse,
} from './store.js';
import { StoreCalls } from './store-calls.js';
import { type SyncStore, syncStoreOf } from './sync-store.js';

const FACTORY = 'createIdempotency';

/** What `begin` learns about a protected request before touching the store. */
interface Identity {
  /** The store key: hash of namespace, scope and client key. */
  readonly key: string;
  readonly fingerprint: string;
  /** The principal (`''` for global keys). */
  readonly scope: string;
}

/**
 * The server core behind {@link Idempotency} (see `createIdempotency`): decides what each
 * request gets (`begin`), then records how its execution ended (`complete`, `release`,
 * `interrupt`, `disconnected`). It owns the lock lease of every execution it starts.
 */
export class IdempotencyServer implements Idempotency {
  readonly options: ResolvedOptions;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #scope: ValidatedOptions['scope'];
  readonly #fingerprint: ValidatedOptions['fingerprint'];
  readonly #logger: IdempotencyLogger | undefined;
  readonly #replayable: HeaderFilter;
  readonly #covered: ReadonlySet<string>;
  /** The key header as the user spelled it, for messages. */
  readonly #headerName: string;
  readonly #calls: StoreCalls;
  /** The store's synchronous side, when it is an in-process store (see `SyncStore`). */
  readonly #sync: SyncStore | undefined;
  /** Renews the lease of every execution in progress (one timer for all). */
  readonly #renewer: Renewer;
  /** Kind and name on telemetry records (`store-failure`, `idempotency-replay`, …). */
  readonly #identity: PolicyIdentity;
  readonly #warnings = new EventChannel<IdempotencyWarning>();
  readonly #fenced = new EventChannel<FencedEvent>();
  readonly #storeFailures = new EventChannel<StoreFailureEvent>();
  readonly #replays = new EventChannel<ReplayEvent>();
  readonly #takeovers = new EventChannel<TakeoverEvent>();
  #warnedNoScope = false;
  /** The framed version and namespace every store key starts with. */
  readonly #keyPrefix: string;

  constructor(validated: ValidatedOptions, headerName: string) {
    const { resolved } = validated;
    this.options = resolved;
    this.#store = validated.store;
    this.#sync = syncStoreOf(validated.store);
    this.#clock = validated.clock;
    this.#scope = validated.scope;
    this.#fingerprint = validated.fingerprint;
    this.#logger = validated.logger;
    this.#replayable = headerFilter(validated.replayAllow);
    this.#covered = new Set(resolved.methods);
    this.#headerName = headerName;
    this.#keyPrefix = framedText(['faultline-idempotency-v1', resolved.namespace]);
    this.#identity = validated.identity;
    this.#calls = new StoreCalls(
      validated.clock,
      resolved.storeTimeout,
      this.#storeFailures,
      (warning) => this.#warn(warning),
      resolved.onStoreError === 'fail-closed',
      validated.identity,
    );
    const store = validated.store;
    const lockTtl = resolved.lockTtl;
    const calls = this.#calls;
    const fenced = this.#fenced;
    this.#renewer = {
      // Renew at a third of the lease, so that two renewals can fail before the lock lapses.
      queue: new DeadlineQueue<Lease>(validated.clock, lockTtl / 3, true),
      renew: (lease) =>
        calls.run('renew', lease.key, () => store.renew(lease.key, lease.owner, lockTtl)),
      lost: (lease) => fenced.emit({ key: lease.key, operation: 'renew' }),
    };
    // Methods stay usable when taken off the object (`const { begin } = idempotency`).
    this.begin = this.begin.bind(this);
    this.complete = this.complete.bind(this);
    this.release = this.release.bind(this);
    this.interrupt = this.interrupt.bind(this);
    this.disconnected = this.disconnected.bind(this);
    this.storeKey = this.storeKey.bind(this);
    this.onWarning = this.onWarning.bind(this);
    this.onFenced = this.onFenced.bind(this);
    this.onStoreFailure = this.onStoreFailure.bind(this);
    this.onReplay = this.onReplay.bind(this);
    this.onTakeover = this.onTakeover.bind(this);
  }

  // ---------------------------------------------------------------------------------------------
  // Deciding (rows 1-11, 16, 21)

  async begin(request: IdempotencyRequest): Promise<BeginResult> {
    if (!this.#covered.has(request.method.toUpperCase())) return UNPROTECTED;
    // Synchronous in the usual case (a synchronous scope, small inputs): no promise hop.
    const identified = this.#identify(request);
    const identity = isThenable(identified) ? await identified : identified;
    if (!('key' in identity)) return identity;
    const { key, fingerprint, scope } = identity;
    const { concurrentWait, lockTtl } = this.options;
    const waitUntil = concurrentWait === undefined ? undefined : this.#clock.now() + concurrentWait;
    for (;;) {
      const lease = new Lease(key);
      let claim: ClaimResult;
      const sync = this.#inProcess('claim');
      if (sync !== undefined) {
        try {
          claim = sync.claimNow(key, { owner: lease.owner, fingerprint, lockTtl, scope });
        } catch (error) {
          // A claim that threw did not land: nothing to clean up.
          this.#calls.failedNow('claim', key, error);
          return this.#storeDown(key, undefined, undefined);
        }
        this.#calls.answeredNow();
      } else {
        const owner = lease.owner;
        let pending: Promise<ClaimResult> | undefined;
        try {
          claim = await this.#calls.run('claim', key, () => {
            pending = this.#store.claim(key, { owner, fingerprint, lockTtl, scope });
            return pending;
          });
        } catch {
          return this.#storeDown(key, owner, pending);
        }
      }
      if (claim.claimed) return this.#execute(key, lease, claim.previous);
      const decided = this.#decide(key, fingerprint, claim.record);
      if (decided !== undefined) return decided;
      if (waitUntil === undefined) return this.#conflict();
      // Row 6 with { wait }: poll until the first request completes, is released, or time is up.
      let record: StoredRecord | undefined = claim.record;
      while (record !== undefined && record.status === 'IN_PROGRESS') {
        const left = waitUntil - this.#clock.now();
        if (left <= 0) return this.#conflict();
        await this.#clock.sleep(Math.min(left, pollInterval(concurrentWait!)));
        try {
          record = await this.#calls.run('get', key, () => this.#store.get(key));
        } catch {
          return this.#storeDown(key, undefined, undefined);
        }
        if (record !== undefined) {
          const outcome = this.#decide(key, fingerprint, record);
          if (outcome !== undefined) return outcome;
        }
      }
      // Released or expired: claim again (and maybe execute).
    }
  }

  /**
   * The key, fingerprint and scope of a covered request, or what to answer instead (no key,
   * a malformed key, no principal, a body too deep to fingerprint). Synchronous unless `scope`
   * or `fingerprint` returns a promise or an input is large enough for Web Crypto. Throws (a
   * rejection of `begin`) only when a `scope` or `fingerprint` callback throws or returns a
   * non-string (an application bug).
   */
  #identify(request: IdempotencyRequest): Identified | Promise<Identified> {
    const options = this.options;
    const rawKey = headerValue(request.headers, options.header);
    if (rawKey === undefined) {
      if (options.required) {
        return refuse('MISSING_KEY', `This request requires an ${this.#headerName} header.`);
      }
      return UNPROTECTED;
    }
    const parsed = parseKeyHeader(rawKey, options.maxKeyLength, options.strict);
    if (!parsed.ok) return refuse('INVALID_KEY', `Invalid ${this.#headerName}: ${parsed.reason}.`);

    if (this.#scope === undefined) {
      if (!this.#warnedNoScope && !options.globalKeys) {
        this.#warnedNoScope = true;
        this.#warn({
          code: 'NO_SCOPE',
          message: `${FACTORY} has no "scope": keys are global, so two clients sending the same key share one record. Pass scope: (request) => principal.`,
        });
      }
      return this.#hashes(request, parsed.key, '');
    }
    const returned = this.#scope(request);
    if (isThenable(returned)) {
      return Promise.resolve(returned).then((value) => this.#scoped(request, parsed.key, value));
    }
    return this.#scoped(request, parsed.key, returned);
  }

  /** {@link #identify} once the scope callback answered `value`. */
  #scoped(
    request: IdempotencyRequest,
    clientKey: string,
    value: unknown,
  ): Identified | Promise<Identified> {
    if (value !== undefined && typeof value !== 'string') {
      throw new TypeError(
        `${FACTORY}: scope() must return a string or undefined, received ${formatValue(value)}`,
      );
    }
    if ((value === undefined || value === '') && !this.options.globalKeys) {
      // Never fall back to the global key space: this request would share records with every
      // other request without a principal (and replay their responses).
      return refuse(
        'MISSING_SCOPE',
        `scope() found no principal for this request, so its ${this.#headerName} cannot be attributed to anyone. Authenticate the request (or set globalKeys: true to share one key space).`,
      );
    }
    return this.#hashes(request, clientKey, value ?? '');
  }

  /** The store key and the fingerprint: small inputs hash synchronously, large ones later. */
  #hashes(
    request: IdempotencyRequest,
    clientKey: string,
    scope: string,
  ): Identified | Promise<Identified> {
    const keyText = this.#storeKeyText(clientKey, scope);
    const key = sha256HexNowText(keyText);
    const fingerprint = this.#fingerprintOf(request);
    if (key !== undefined && typeof fingerprint === 'string') return { key, fingerprint, scope };
    if (!isThenable(fingerprint) && typeof fingerprint !== 'string') return fingerprint;
    return this.#hashesLater(keyText, key, fingerprint, scope);
  }

  async #hashesLater(
    keyText: string,
    key: string | undefined,
    fingerprint: string | Promise<string | BeginResult>,
    scope: string,
  ): Promise<Identified> {
    const storeKey = key ?? (await sha256Hex(utf8(keyText)));
    const print = await fingerprint;
    if (typeof print !== 'string') return print;
    return { key: storeKey, fingerprint: print, scope };
  }

  /** The request's fingerprint, a refusal (body too deep), or a promise of either. */
  #fingerprintOf(
    request: IdempotencyRequest,
  ): string | BeginResult | Promise<string | BeginResult> {
    if (this.#fingerprint !== undefined) {
      const returned = this.#fingerprint(request);
      if (isThenable(returned)) return Promise.resolve(returned).then(checkFingerprint);
      return checkFingerprint(returned);
    }
    const input = {
      method: request.method,
      path: request.path,
      query: request.query ?? '',
      contentType: firstValue(request.headers['content-type']),
      body: request.body,
    };
    let text: string | undefined;
    let bytes: Uint8Array | undefined;
    try {
      // JSON and empty bodies as text (hashed natively), anything else as bytes.
      text = fingerprintText(input);
      if (text === undefined) bytes = fingerprintBytes(input);
    } catch (error) {
      if (!(error instanceof BodyTooDeepError)) throw error;
      return refuse(
        'BODY_TOO_DEEP',
        `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep; it cannot be fingerprinted.`,
      );
    }
    if (text !== undefined) return sha256HexNowText(text) ?? sha256Hex(utf8(text));
    return sha256HexNow(bytes!) ?? sha256Hex(bytes!);
  }

  /** Replay, mismatch, or `undefined` for a live IN_PROGRESS record with our fingerprint. */
  #decide(key: string, fingerprint: string, record: StoredRecord): BeginResult | undefined {
    if (record.fingerprint !== fingerprint) {
      // Rows 7 and 10: a mismatch is permanent, so it wins over 409.
      this.#publish('idempotency-conflict', MISMATCH);
      return refuse(
        'FINGERPRINT_MISMATCH',
        `This ${this.#headerName} was used with a different request (method, path, query or body).`,
      );
    }
    if (record.status === 'COMPLETED' && record.response !== undefined) {
      return this.#replay(key, record.response);
    }
    return undefined;
  }

  #replay(key: string, stored: StoredResponse): BeginResult {
    const replayable = this.#replayable;
    // A plain loop (no callback, no destructuring) and shared marker pairs: this runs on every
    // replay, and the record may come from a process with another allow-list, so it is filtered
    // again here.
    const source = stored.headers;
    const headers: StoredHeader[] = [];
    for (let i = 0; i < source.length; i++) {
      const header = source[i]!;
      if (replayable(header[0])) headers.push(header);
    }
    headers.push(REPLAYED);
    if (stored.bodyOmitted) headers.push(BODY_OMITTED);
    if (this.#replays.hasListeners) this.#replays.emit({ key, status: stored.status });
    if (telemetry.hasSubscribers) this.#publish('idempotency-replay', { status: stored.status });
    return { kind: 'replay', response: { status: stored.status, headers, body: stored.body } };
  }

  #conflict(): BeginResult {
    this.#publish('idempotency-conflict', IN_PROGRESS);
    return refuse(
      'CONFLICT',
      `A request with this ${this.#headerName} is still being processed. Retry later with the same key.`,
      1,
    );
  }

  /** Rows 5 and 8: this request now owns the key; its lease is renewed while it runs (row 20). */
  #execute(key: string, lease: Lease, previous: ClaimPrevious): BeginResult {
    if (previous === 'unreadable') {
      this.#warn({
        code: 'UNREADABLE_RECORD',
        message: 'an unreadable idempotency record was replaced; the request executes again',
        key,
      });
    } else if (previous === 'expired' && this.#takeovers.hasListeners) {
      this.#takeovers.emit({ key });
    }
    lease.keepAlive(this.#renewer);
    const token = new ExecutionToken(key, lease, this.options.maxStoredBodyBytes);
    return { kind: 'execute', token };
  }

  /** Row 16: the claim failed or timed out; `owner` is the claim's fencing token, if any. */
  #storeDown(
    key: string,
    owner: string | undefined,
    pending: Promise<ClaimResult> | undefined,
  ): BeginResult {
    if (owner !== undefined) {
      // The request will not execute, but a claim that timed out may still land, even after a
      // clean-up sent now on another connection (a pool does not keep order): `abandon` (which a
      // store that can be overtaken implements) makes sure this owner's claim never holds the
      // key whenever it lands, and a claim reported to have landed late is released. Failures
      // here only mean the lock expires on its own.
      const store = this.#store;
      const lockTtl = this.options.lockTtl;
      this.#calls.cleanUp('release', key, () =>
        store.abandon === undefined
          ? store.release(key, owner)
          : store.abandon(key, owner, lockTtl),
      );
      pending?.then(
        (late) => {
          if (late.claimed) this.#calls.cleanUp('release', key, () => store.release(key, owner));
        },
        () => {},
      );
    }
    if (this.options.onStoreError === 'fail-open') {
      this.#warn({
        code: 'FAIL_OPEN',
        message: 'idempotency store unavailable: request executes without protection (fail-open)',
        key,
      });
      return UNPROTECTED;
    }
    return refuse(
      'STORE_UNAVAILABLE',
      'The idempotency store did not answer; the request was not executed. Retry with the same key.',
      1,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Finishing (rows 12-15, 17-19, and the cut responses)

  complete(token: ExecutionToken, response: CompletedResponse): Promise<FinishOutcome> {
    const options = this.options;
    if (!this.#storesStatus(response.status)) return this.release(token);
    const omitted =
      response.bodyOmitted === true || response.body.length > options.maxStoredBodyBytes;
    return this.#keep(token, {
      status: response.status,
      headers: replayableHeaders(response.headers, this.#replayable),
      body: omitted ? new Uint8Array(0) : response.body,
      bodyOmitted: omitted,
    });
  }

  /**
   * Whether the key keeps a record of a response that started with `status` (a finished one to
   * replay, a cut one as RESPONSE_UNAVAILABLE): any status but a 5xx, which releases the key so
   * that a retry runs the request again, unless `cacheServerErrors` (row 13).
   */
  #storesStatus(status: number): boolean {
    return status < 500 || this.options.cacheServerErrors;
  }

  release(token: ExecutionToken): Promise<FinishOutcome> {
    const sync = this.#inProcess('release');
    if (sync !== undefined) return this.#finishNow(sync, token, undefined);
    const owner = leaseOfToken(token).owner;
    return this.#finish(token, () => this.#store.release(token.key, owner), 'release', 'released');
  }

  interrupt(token: ExecutionToken, status: number): Promise<FinishOutcome> {
    if (!this.#storesStatus(status)) return this.release(token);
    const value = problem(
      'RESPONSE_UNAVAILABLE',
      `A request with this ${this.#headerName} was executed (its response started with status ${status}), but the response was cut off before it ended and cannot be replayed. Do not retry with this key; check the outcome another way (for example, read the resource).`,
    );
    // Stored as it is (not through the replay allow-list): its own headers are fixed.
    const { headers, body } = problemResponse(value);
    return this.#keep(token, { status: value.status, headers, body, bodyOmitted: false });
  }

  disconnected(token: ExecutionToken, progress: () => ResponseProgress): void {
    const lease = leaseOfToken(token);
    if (lease.finished) return;
    lease.stopRenewal();
    // The lease has at least 2/3 of lockTtl left (renewed every lockTtl/3), so a decision at
    // lockTtl/3 is written while the lock is still ours.
    lease.wait(this.#clock, this.options.lockTtl / 3, () => {
      const now = progress();
      if (now.started) void this.interrupt(token, now.status);
    });
  }

  #keep(token: ExecutionToken, stored: StoredResponse): Promise<FinishOutcome> {
    const sync = this.#inProcess('complete');
    if (sync !== undefined) return this.#finishNow(sync, token, stored);
    const owner = leaseOfToken(token).owner;
    const recordTtl = this.options.recordTtl;
    return this.#finish(
      token,
      () => this.#store.complete(token.key, owner, stored, recordTtl),
      'complete',
      'stored',
    );
  }

  /**
   * The store's synchronous side when `method` is still the store's own (not replaced by a spy
   * or a fault injector since), else `undefined`: the call then goes through the store's promise.
   */
  #inProcess(method: 'claim' | 'complete' | 'release'): SyncStore | undefined {
    const sync = this.#sync;
    return sync !== undefined && this.#store[method] === sync[method] ? sync : undefined;
  }

  /**
   * {@link #finish} on an in-process store, answered synchronously: completes with `stored`, or
   * releases when there is none. A write that threw is not retried (it waited on nothing that
   * could recover); it is reported and logged like any failed store call.
   */
  #finishNow(
    sync: SyncStore,
    token: ExecutionToken,
    stored: StoredResponse | undefined,
  ): Promise<FinishOutcome> {
    const lease = leaseOfToken(token);
    if (!lease.finish()) return IGNORED;
    const operation = stored === undefined ? 'release' : 'complete';
    let written: boolean;
    try {
      written =
        stored === undefined
          ? sync.releaseNow(token.key, lease.owner)
          : sync.completeNow(token.key, lease.owner, stored, this.options.recordTtl);
    } catch (error) {
      this.#calls.failedNow(operation, token.key, error);
      return FAILED;
    }
    this.#calls.answeredNow();
    if (written) return stored === undefined ? RELEASED : STORED;
    this.#fenced.emit({ key: token.key, operation });
    return FENCED;
  }

  async #finish(
    token: ExecutionToken,
    write: () => Promise<boolean>,
    operation: 'complete' | 'release',
    success: FinishOutcome,
  ): Promise<FinishOutcome> {
    if (!leaseOfToken(token).finish()) return 'ignored';
    // Row 17: bounded retries; the client already has its response.
    const attempts = this.options.completionAttempts;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        if (await this.#calls.run(operation, token.key, write)) return success;
        this.#fenced.emit({ key: token.key, operation });
        return 'fenced';
      } catch {
        if (attempt < attempts) await this.#clock.sleep(Math.min(50 * 2 ** (attempt - 1), 1_000));
      }
    }
    return 'failed';
  }

  // ---------------------------------------------------------------------------------------------
  // Keys and events

  storeKey(key: string, scope?: string): Promise<string> {
    return sha256Hex(utf8(this.#storeKeyText(key, scope ?? '')));
  }

  #storeKeyText(key: string, scope: string): string {
    // framedText of [version, namespace, scope, key]: the fixed first two fields framed once.
    return `${this.#keyPrefix}s${scope.length}:${scope}s${key.length}:${key}`;
  }

  /**
   * A record on core's telemetry stream: never a key, a URL or a scope (attribute values must
   * have bounded cardinality). Nothing is built while nobody subscribes.
   */
  #publish(
    event: 'idempotency-replay' | 'idempotency-conflict',
    attributes: TelemetryAttributes,
  ): void {
    if (!telemetry.hasSubscribers) return;
    publishEvent(this.#identity, undefined, event, this.#clock.now(), undefined, attributes);
  }

  /** Warnings go to `onWarning` listeners when there are any, else to the logger. */
  #warn(warning: IdempotencyWarning): void {
    if (this.#warnings.hasListeners) this.#warnings.emit(warning);
    else this.#logger?.warn(`[@faultline/idempotency] ${warning.message}`);
  }

  onWarning(listener: Listener<IdempotencyWarning>): () => void {
    return this.#warnings.subscribe(listener);
  }

  onFenced(listener: Listener<FencedEvent>): () => void {
    return this.#fenced.subscribe(listener);
  }

  onStoreFailure(listener: Listener<StoreFailureEvent>): () => void {
    return this.#storeFailures.subscribe(listener);
  }

  onReplay(listener: Listener<ReplayEvent>): () => void {
    return this.#replays.subscribe(listener);
  }

  onTakeover(listener: Listener<TakeoverEvent>): () => void {
    return this.#takeovers.subscribe(listener);
  }
}

/** What {@link IdempotencyServer} learns about a request before the store: who, or an answer. */
type Identified = Identity | BeginResult;

function checkFingerprint(value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(
      `${FACTORY}: fingerprint() must return a string, received ${formatValue(value)}`,
    );
  }
  return value;
}

/** `reason` attributes of `idempotency-conflict` records. */
const IN_PROGRESS: TelemetryAttributes = Object.freeze({ reason: 'in-progress' });
const MISMATCH: TelemetryAttributes = Object.freeze({ reason: 'fingerprint-mismatch' });

/** The markers a replay adds to the stored headers: shared, never modified. */
const REPLAYED: StoredHeader = Object.freeze(['idempotent-replayed', 'true'] as const);
const BODY_OMITTED: StoredHeader = Object.freeze(['idempotency-body-omitted', 'true'] as const);

/** Outcomes of a synchronous finish, settled once and shared (nobody can change them). */
const STORED: Promise<FinishOutcome> = Promise.resolve('stored');
const RELEASED: Promise<FinishOutcome> = Promise.resolve('released');
const FENCED: Promise<FinishOutcome> = Promise.resolve('fenced');
const FAILED: Promise<FinishOutcome> = Promise.resolve('failed');
const IGNORED: Promise<FinishOutcome> = Promise.resolve('ignored');

/** Run the handler without protection (rows 1, 2, fail-open). One shared object. */
const UNPROTECTED: BeginResult = Object.freeze({ kind: 'execute', token: undefined });

/** An RFC 9457 problem answered instead of running the handler. */
function refuse(code: ProblemCode, detail: string, retryAfter?: number): BeginResult {
  const value = problem(code, detail);
  return { kind: 'reject', problem: value, response: problemResponse(value, retryAfter) };
}

function headerValue(
  headers: IdempotencyRequest['headers'],
  name: string,
): string | readonly string[] | undefined {
  const value = headers[name];
  if (Array.isArray(value) && value.length === 0) return undefined;
  return value as string | readonly string[] | undefined;
}

function firstValue(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

function pollInterval(wait: number): number {
  return Math.max(5, Math.min(100, wait / 20));
}
