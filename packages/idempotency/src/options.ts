import type { Clock } from '@faultline/clock';
import {
  checkBoolean,
  checkFunction,
  checkOneOf,
  checkOptions,
  checkString,
  formatValue,
  identify,
  optionalClock,
  optionalNumber,
  type PolicyIdentity,
} from '@faultline/core';
import { checkDuration, type Duration } from './duration.js';
import {
  DEFAULT_REPLAY_HEADERS,
  HEADER_NAME_PATTERN,
  HTTP_TOKEN,
  NEVER_REPLAYED,
} from './headers.js';
import type { IdempotencyRequest } from './request.js';
import type { Store } from './store.js';

/** The factory these options belong to, as error messages name it. */
const FACTORY = 'createIdempotency';
const MAX_TIMER = 2_147_483_647;
const YEAR = 365 * 86_400_000;

/** `concurrent` option: answer 409 at once, or wait for the first request to finish. */
export type ConcurrentPolicy = 'reject' | { readonly wait: Duration };

/** Options for {@link createIdempotency}. */
export interface IdempotencyOptions {
  /** Where records live. Required; `memoryStore()` for a single process. */
  readonly store: Store;
  /** Methods covered; others pass through (row 1). Default `['POST', 'PATCH']`. */
  readonly methods?: readonly string[];
  /** A covered request without a key is rejected with 400 `MISSING_KEY` (row 3). Default `false`. */
  readonly required?: boolean;
  /** The request header carrying the key. Default `'Idempotency-Key'`. */
  readonly header?: string;
  /**
   * The principal the key belongs to (user or tenant id), from your authentication, never from a
   * header the client sets. Keys of different scopes never meet. A request for which it returns
   * `undefined` or `''` is refused (400 `MISSING_SCOPE`) unless `globalKeys` is on. Without a
   * `scope` keys are global, and a one-time warning says so. May be async.
   */
  readonly scope?: (
    request: IdempotencyRequest,
  ) => string | undefined | PromiseLike<string | undefined>;
  /**
   * Opt into one global key space for requests whose `scope` returns `undefined` (or `''`), and
   * silence the warning about a missing `scope`. Without it such a request is refused with 400
   * `MISSING_SCOPE`: falling back to global keys would let a request without a principal replay
   * another principal's response. Default `false`.
   */
  readonly globalKeys?: boolean;
  /** Replaces the default fingerprint (SHA-256 of method, path, sorted query, body). May be async. */
  readonly fingerprint?: (request: IdempotencyRequest) => string | PromiseLike<string>;
  /** How long a COMPLETED record is replayed (row 11). Default `'24h'`; in [1 ms, 365 d]. */
  readonly recordTtl?: Duration;
  /** Lock lease of an IN_PROGRESS record, renewed every lockTtl/3 (rows 8, 20). Default `'60s'`. */
  readonly lockTtl?: Duration;
  /** Longest accepted key (characters). Default `255`; an integer in [1, 65 536]. */
  readonly maxKeyLength?: number;
  /** Largest body stored for replay; larger ones are omitted (row 18). Default 1 MiB. */
  readonly maxStoredBodyBytes?: number;
  /** Store and replay 5xx responses instead of releasing the key (row 13). Default `false`. */
  readonly cacheServerErrors?: boolean;
  /** Store down at claim: 503 (`'fail-closed'`) or run unprotected (`'fail-open'`). */
  readonly onStoreError?: 'fail-closed' | 'fail-open';
  /** Same key while in progress: 409 at once, or `{ wait }` for completion (row 6). */
  readonly concurrent?: ConcurrentPolicy;
  /** Header allow-list for replays (`'x-*'` matches a prefix). Default {@link DEFAULT_REPLAY_HEADERS}. */
  readonly replayHeaders?: readonly string[];
  /** Accept only the quoted (RFC 8941 sf-string) key form. Default `false`. */
  readonly strict?: boolean;
  /**
   * Bound on every store call that can wait (the in-process `memoryStore` answers synchronously);
   * a slower store counts as down. Default `'2s'`; in [1 ms, 2^31).
   */
  readonly storeTimeout?: Duration;
  /** Attempts at writing a completion before giving up (row 17). Default `3`; in [1, 10]. */
  readonly completionAttempts?: number;
  /** Separates applications sharing one store. Default `'faultline'`. */
  readonly namespace?: string;
  /**
   * The name its telemetry records carry (`faultline.policy.name`), to tell several servers
   * apart. Default `'idempotency'`.
   */
  readonly name?: string;
  /** Clock for timeouts, renewals and waits (not for shared expiry). Default `systemClock`. */
  readonly clock?: Clock;
  /**
   * Where warnings go when nobody listens on `onWarning`: the store failing and recovering
   * (logged once per change of state, with the cause), fail-open executions, no `scope`,
   * unreadable records. Default `console`; `false` silences them.
   */
  readonly logger?: IdempotencyLogger | false;
}

/** Where {@link IdempotencyOptions.logger} sends warnings. */
export interface IdempotencyLogger {
  warn(message: string): void;
}

/** Options after validation and defaults. */
export interface ResolvedOptions {
  readonly methods: readonly string[];
  readonly required: boolean;
  readonly globalKeys: boolean;
  readonly header: string;
  readonly recordTtl: number;
  readonly lockTtl: number;
  readonly maxKeyLength: number;
  readonly maxStoredBodyBytes: number;
  readonly cacheServerErrors: boolean;
  readonly onStoreError: 'fail-closed' | 'fail-open';
  readonly concurrentWait: number | undefined;
  readonly strict: boolean;
  readonly storeTimeout: number;
  readonly completionAttempts: number;
  readonly namespace: string;
}

function checkStore(value: unknown): Store {
  const candidate = value as Partial<Store> | null | undefined;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    (['claim', 'get', 'complete', 'renew', 'release'] as const).some(
      (method) => typeof candidate[method] !== 'function',
    )
  ) {
    throw new TypeError(
      `${FACTORY}: option "store" must be a Store (claim, get, complete, renew, release), received ${formatValue(value)}`,
    );
  }
  return candidate as Store;
}

function checkLogger(value: unknown): IdempotencyLogger | undefined {
  if (value === undefined) return console;
  if (value === false) return undefined;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as Partial<IdempotencyLogger>).warn !== 'function'
  ) {
    throw new TypeError(
      `${FACTORY}: option "logger" must be false or an object with warn(message), received ${formatValue(value)}`,
    );
  }
  return value as IdempotencyLogger;
}

function checkStringList(option: string, value: unknown, pattern: RegExp, what: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new TypeError(
      `${FACTORY}: option "${option}" must be an array of ${what}, received ${formatValue(value)}`,
    );
  }
  for (const item of value as string[]) {
    if (!pattern.test(item)) {
      throw new RangeError(
        `${FACTORY}: option "${option}" must contain only ${what}, received ${formatValue(item)}`,
      );
    }
  }
  return value as string[];
}

function resolve(options: Partial<IdempotencyOptions>): ResolvedOptions {
  const methods = (
    options.methods === undefined
      ? ['POST', 'PATCH']
      : checkStringList('methods', options.methods, HTTP_TOKEN, 'HTTP method names')
  ).map((method) => method.toUpperCase());
  if (methods.length === 0) {
    throw new RangeError(
      `${FACTORY}: option "methods" must list at least one HTTP method, received []`,
    );
  }
  const header =
    options.header === undefined
      ? 'idempotency-key'
      : checkString(FACTORY, 'header', options.header);
  if (!HTTP_TOKEN.test(header)) {
    throw new RangeError(
      `${FACTORY}: option "header" must be a header name (an RFC 9110 token), received ${formatValue(header)}`,
    );
  }
  const recordTtl =
    options.recordTtl === undefined
      ? 86_400_000
      : checkDuration(FACTORY, 'recordTtl', options.recordTtl, 1, YEAR);
  const lockTtl =
    options.lockTtl === undefined
      ? 60_000
      : checkDuration(FACTORY, 'lockTtl', options.lockTtl, 3, MAX_TIMER);
  let concurrentWait: number | undefined;
  const concurrent = options.concurrent;
  if (concurrent !== undefined && concurrent !== 'reject') {
    if (concurrent === null || typeof concurrent !== 'object' || !('wait' in concurrent)) {
      throw new TypeError(
        `${FACTORY}: option "concurrent" must be 'reject' or { wait: duration }, received ${formatValue(concurrent)}`,
      );
    }
    concurrentWait = checkDuration(FACTORY, 'concurrent.wait', concurrent.wait, 0, MAX_TIMER);
  }
  return {
    methods,
    required:
      options.required === undefined ? false : checkBoolean(FACTORY, 'required', options.required),
    globalKeys:
      options.globalKeys === undefined
        ? false
        : checkBoolean(FACTORY, 'globalKeys', options.globalKeys),
    header: header.toLowerCase(),
    recordTtl,
    lockTtl,
    maxKeyLength: optionalNumber(FACTORY, 'maxKeyLength', options.maxKeyLength, 255, {
      min: 1,
      max: 65_536,
      integer: true,
    }),
    maxStoredBodyBytes: optionalNumber(
      FACTORY,
      'maxStoredBodyBytes',
      options.maxStoredBodyBytes,
      1_048_576,
      {
        min: 0,
        max: 2 ** 31,
        maxExclusive: true,
        integer: true,
      },
    ),
    cacheServerErrors:
      options.cacheServerErrors === undefined
        ? false
        : checkBoolean(FACTORY, 'cacheServerErrors', options.cacheServerErrors),
    onStoreError:
      options.onStoreError === undefined
        ? 'fail-closed'
        : checkOneOf(FACTORY, 'onStoreError', options.onStoreError, ['fail-closed', 'fail-open']),
    concurrentWait,
    strict: options.strict === undefined ? false : checkBoolean(FACTORY, 'strict', options.strict),
    storeTimeout:
      options.storeTimeout === undefined
        ? 2_000
        : checkDuration(FACTORY, 'storeTimeout', options.storeTimeout, 1, MAX_TIMER),
    completionAttempts: optionalNumber(
      FACTORY,
      'completionAttempts',
      options.completionAttempts,
      3,
      {
        min: 1,
        max: 10,
        integer: true,
      },
    ),
    namespace:
      options.namespace === undefined
        ? 'faultline'
        : checkString(FACTORY, 'namespace', options.namespace),
  };
}

/** Everything {@link resolveOptions} validated. @internal */
export interface ValidatedOptions {
  readonly store: Store;
  readonly resolved: ResolvedOptions;
  readonly scope: IdempotencyOptions['scope'];
  readonly fingerprint: IdempotencyOptions['fingerprint'];
  readonly replayAllow: readonly string[];
  readonly clock: Clock;
  readonly logger: IdempotencyLogger | undefined;
  /** Kind `'idempotency'` and the `name` option, for telemetry records. */
  readonly identity: PolicyIdentity;
}

/**
 * Validates every option of `createIdempotency` (TypeError for a wrong type, RangeError out of
 * range) and applies the defaults.
 * @internal
 */
export function resolveOptions(options: IdempotencyOptions): ValidatedOptions {
  const opts = checkOptions<IdempotencyOptions>(FACTORY, options);
  const store = checkStore(opts.store);
  const resolved = resolve(opts);
  if (resolved.lockTtl > resolved.recordTtl) {
    throw new RangeError(
      `${FACTORY}: option "lockTtl" must be at most recordTtl (${resolved.recordTtl} ms), received ${opts.lockTtl === undefined ? `its default ${resolved.lockTtl} ms: set lockTtl too` : formatValue(opts.lockTtl)}`,
    );
  }
  const scope =
    opts.scope === undefined
      ? undefined
      : checkFunction<NonNullable<IdempotencyOptions['scope']>>(FACTORY, 'scope', opts.scope);
  const fingerprint =
    opts.fingerprint === undefined
      ? undefined
      : checkFunction<NonNullable<IdempotencyOptions['fingerprint']>>(
          FACTORY,
          'fingerprint',
          opts.fingerprint,
        );
  let replayAllow: readonly string[] = DEFAULT_REPLAY_HEADERS;
  if (opts.replayHeaders !== undefined) {
    replayAllow = checkStringList(
      'replayHeaders',
      opts.replayHeaders,
      HEADER_NAME_PATTERN,
      'header names (a trailing * matches a prefix)',
    );
    for (const name of replayAllow) {
      if (NEVER_REPLAYED.has(name.toLowerCase())) {
        throw new RangeError(
          `${FACTORY}: option "replayHeaders" must not list ${formatValue(name)} (never replayed)`,
        );
      }
    }
  }
  const clock = optionalClock(FACTORY, 'clock', opts.clock);
  const identity = identify(FACTORY, 'idempotency', opts.name);
  return {
    store,
    resolved,
    scope,
    fingerprint,
    replayAllow,
    clock,
    logger: checkLogger(opts.logger),
    identity,
  };
}
