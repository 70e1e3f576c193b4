import { checkString, formatValue, reportListenerError } from '@faultline/clock/internal';

/**
 * The telemetry stream: one publish/subscribe point that every faultline policy reports to, shaped
 * like Node's `diagnostics_channel` (a `hasSubscribers` flag checked before any record is built,
 * `subscribe` returning an unsubscribe function). Adapters in `@faultline/telemetry` turn the
 * records into OpenTelemetry metrics and span events, Prometheus metrics and
 * `diagnostics_channel` messages. It is browser-safe and costs one property read per event when
 * nobody listens.
 */

/** How serious an event is (Polly v8's `ResilienceEventSeverity`, lower-cased). */
export type TelemetrySeverity = 'information' | 'warning' | 'error';

/**
 * Every event name a faultline package publishes, with its severity: one vocabulary for all
 * packages. Add names here; never rename one (dashboards and alerts depend on them).
 * Rejections and give-ups are warnings; a circuit opening and a lost lease are errors.
 */
export const telemetryEvents = {
  retry: 'information',
  'give-up': 'warning',
  'budget-exhausted': 'warning',
  timeout: 'warning',
  'circuit-opened': 'error',
  'circuit-half-opened': 'information',
  'circuit-closed': 'information',
  'circuit-isolated': 'warning',
  'circuit-rejected': 'warning',
  throttled: 'warning',
  'bulkhead-rejected': 'warning',
  fallback: 'information',
  hedge: 'information',
  'rate-limited': 'warning',
  'concurrency-limited': 'warning',
  'chaos-fault': 'information',
  'chaos-latency': 'information',
  'chaos-outcome': 'information',
  'chaos-behavior': 'information',
  'lease-acquired': 'information',
  'lease-lost': 'error',
  // A lease's local validity ended before a renewal (a renew failing, or a process pause); the
  // holder is told to stop, as for a lost lease.
  'lease-expired': 'error',
  'lease-released': 'information',
  // acquire({ wait }) gave up: the lease stayed held elsewhere.
  'lease-unavailable': 'warning',
  // A fence refused an access carrying a token lower than one it had seen (a stale holder).
  'fenced-out': 'warning',
  'leader-elected': 'information',
  'leader-demoted': 'warning',
  'idempotency-replay': 'information',
  'idempotency-conflict': 'warning',
  'store-failure': 'warning',
  // A store answered again after store-failure records (fleet instances rejoin shared state).
  'store-recovered': 'information',
  'registry-reload-failed': 'warning',
  // A failure detector's registry: a peer crossed the suspicion threshold, or came back under
  // the recovery band (the peer itself is never an attribute: peers are unbounded).
  'peer-suspected': 'warning',
  'peer-recovered': 'information',
} as const satisfies Readonly<Record<string, TelemetrySeverity>>;

/** A name from {@link telemetryEvents}. */
export type TelemetryEventName = keyof typeof telemetryEvents;

/**
 * Which policy a record comes from: its kind (`'retry'`, `'circuit-breaker'`, …) and the name
 * the user gave it (default: the kind). Built once per policy, shared by all its records.
 */
export interface PolicyIdentity {
  readonly kind: string;
  readonly name: string;
}

/**
 * Extra attributes of an event. Values must have bounded cardinality (a state, a reason, a
 * status class): never a key, a URL or user data, since every distinct value is a metric series.
 */
export type TelemetryAttributes = Readonly<Record<string, string | number | boolean>>;

/** Something a policy did or decided (a retry, a circuit opening, a rejection). */
export interface TelemetryEventRecord {
  readonly type: 'event';
  readonly event: TelemetryEventName;
  readonly severity: TelemetrySeverity;
  readonly policy: PolicyIdentity;
  /** The name of the innermost {@link named} pipeline the call ran in, if any. */
  readonly pipeline: string | undefined;
  /** The per-call operation label given to `execute`, if any. */
  readonly operation: string | undefined;
  /** The policy's clock reading (monotonic ms) when it happened. */
  readonly time: number;
  /** The error involved, when there is one. Adapters report its type, never its message. */
  readonly error?: unknown;
  readonly attributes?: TelemetryAttributes;
}

/** One attempt of a call made by a policy that makes several (retry, hedge). */
export interface TelemetryAttemptRecord {
  readonly type: 'attempt';
  readonly policy: PolicyIdentity;
  readonly pipeline: string | undefined;
  readonly operation: string | undefined;
  /** 1-based. */
  readonly attempt: number;
  /** Whether the policy treated the outcome as a failure. */
  readonly handled: boolean;
  /** Milliseconds from the attempt's start to its outcome. */
  readonly duration: number;
  readonly error?: unknown;
}

/** How a top-level `execute` ended. */
export type ExecutionOutcome = 'success' | 'failure' | 'rejected';

/** One top-level `execute` call, from start to settle. */
export interface TelemetryExecutionRecord {
  readonly type: 'execution';
  readonly pipeline: string | undefined;
  readonly operation: string | undefined;
  /** Milliseconds, measured on the system clock. */
  readonly duration: number;
  /**
   * `'rejected'` when a policy rejected on its own account (an `ExecutionRejectedError`: timeout,
   * open circuit, full bulkhead, …), `'failure'` for any other error, `'success'` otherwise.
   */
  readonly outcome: ExecutionOutcome;
  readonly error?: unknown;
}

/** Everything the stream carries. Plain data, no closures. */
export type TelemetryRecord =
  | TelemetryEventRecord
  | TelemetryAttemptRecord
  | TelemetryExecutionRecord;

/** A subscriber of the {@link telemetry} stream. */
export type TelemetryListener = (record: TelemetryRecord) => void;

/**
 * A policy with a state worth a gauge (a circuit breaker's closed / open / half-open / isolated),
 * as {@link TelemetryStream.stateSources} reports it.
 */
export interface TelemetryStateSource {
  readonly policy: PolicyIdentity;
  /** Every state the policy can be in, for a gauge that reports 1 for the current one, 0 else. */
  readonly states: readonly string[];
  /** The current state (reading it never changes it). */
  readonly state: string;
}

interface TrackedState {
  readonly owner: WeakRef<object>;
  readonly policy: PolicyIdentity;
  readonly states: readonly string[];
  readonly read: (owner: object) => string;
}

/** The publish/subscribe point; use the shared {@link telemetry} instance. */
export class TelemetryStream {
  #listeners: readonly TelemetryListener[] = [];
  #tracked: TrackedState[] = [];
  /** {@link trackState} sweeps out collected policies when the list reaches this length. */
  #sweepAt = 64;

  /** Whether anybody listens. Policies check it before building a record. */
  get hasSubscribers(): boolean {
    return this.#listeners.length > 0;
  }

  /**
   * Calls `listener` with every record from now on. Returns the unsubscribe function. A listener
   * that throws never changes the outcome of a call; its error is reported the way EventTarget
   * reports listener errors.
   */
  subscribe(listener: TelemetryListener): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(
        `telemetry.subscribe: listener must be a function, received ${formatValue(listener)}`,
      );
    }
    // Copied on write: a listener (un)subscribing during a publish does not disturb it.
    this.#listeners = [...this.#listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.#listeners = this.#listeners.filter((item) => item !== listener);
    };
  }

  /** Hands `record` to every subscriber. Publishers check {@link hasSubscribers} first. */
  publish(record: TelemetryRecord): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(record);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }

  /**
   * Registers a policy whose state a gauge should show. The policy is held weakly: it leaves the
   * list when it is garbage-collected. `read` must be a function of `owner` alone (no closure over
   * it, or the policy would never be collected) and must not change the state it reads.
   */
  trackState<O extends object>(
    owner: O,
    policy: PolicyIdentity,
    states: readonly string[],
    read: (owner: O) => string,
  ): void {
    // Without a gauge reading stateSources(), a program that builds policies per tenant would
    // grow this list forever: sweep collected owners whenever it doubles (amortised O(1)).
    if (this.#tracked.length >= this.#sweepAt) {
      this.#tracked = this.#tracked.filter((tracked) => tracked.owner.deref() !== undefined);
      this.#sweepAt = Math.max(64, 2 * this.#tracked.length);
    }
    this.#tracked.push({
      owner: new WeakRef(owner),
      policy,
      states,
      read: read as (owner: object) => string,
    });
  }

  /** The state of every live policy registered with {@link trackState}, read now. */
  stateSources(): TelemetryStateSource[] {
    const live: TrackedState[] = [];
    const sources: TelemetryStateSource[] = [];
    for (const tracked of this.#tracked) {
      const owner = tracked.owner.deref();
      if (owner === undefined) continue;
      live.push(tracked);
      sources.push({ policy: tracked.policy, states: tracked.states, state: tracked.read(owner) });
    }
    this.#tracked = live;
    return sources;
  }
}

// One stream per JavaScript realm, even when two copies of @faultline/core are loaded (a
// bundler's duplicate, or ESM and CommonJS side by side): records from either reach subscribers
// of both, as with diagnostics_channel's global channel names.
const streamKey = Symbol.for('faultline.telemetry');
const globalSlot = globalThis as { [streamKey]?: TelemetryStream };

function sharedStream(): TelemetryStream {
  let stream = globalSlot[streamKey];
  if (stream === undefined) {
    stream = new TelemetryStream();
    globalSlot[streamKey] = stream;
  }
  return stream;
}

/** The stream every faultline policy publishes to. */
export const telemetry: TelemetryStream = sharedStream();

/** What a record needs to know about the call it comes from. */
/** The labels of the call an attempt belongs to (its policy's identity and the pipeline). */
export interface CallLabels {
  readonly pipeline: string | undefined;
  readonly operation: string | undefined;
}

/**
 * Publishes an event record. Call it only when `telemetry.hasSubscribers` is true (check first,
 * so that nothing is built when nobody listens). `call` is the execution context, or `undefined`
 * for the low-level APIs used outside `execute` (a breaker's `tryAcquire`).
 */
export function publishEvent(
  policy: PolicyIdentity,
  call: CallLabels | undefined,
  event: TelemetryEventName,
  time: number,
  error?: unknown,
  attributes?: TelemetryAttributes,
): void {
  const record: {
    -readonly [K in keyof TelemetryEventRecord]: TelemetryEventRecord[K];
  } = {
    type: 'event',
    event,
    severity: telemetryEvents[event],
    policy,
    pipeline: call?.pipeline,
    operation: call?.operation,
    time,
  };
  if (error !== undefined) record.error = error;
  if (attributes !== undefined) record.attributes = attributes;
  telemetry.publish(record);
}

/** Publishes an attempt record (check `telemetry.hasSubscribers` first). */
export function publishAttempt(
  policy: PolicyIdentity,
  call: CallLabels | undefined,
  attempt: number,
  handled: boolean,
  duration: number,
  error?: unknown,
): void {
  const record: {
    -readonly [K in keyof TelemetryAttemptRecord]: TelemetryAttemptRecord[K];
  } = {
    type: 'attempt',
    policy,
    pipeline: call?.pipeline,
    operation: call?.operation,
    attempt,
    handled,
    duration,
  };
  if (error !== undefined) record.error = error;
  telemetry.publish(record);
}

/** A frozen {@link PolicyIdentity}, built once per policy. */
export function policyIdentity(kind: string, name: string): PolicyIdentity {
  return Object.freeze({ kind, name });
}

/**
 * Checks a policy or pipeline name: a non-empty string (it becomes a metric label, so it should
 * name a downstream or a use, never a request).
 */
export function checkName(owner: string, option: string, value: unknown): string {
  checkString(owner, option, value);
  if (value === '') {
    throw new RangeError(
      `${owner}: option "${option}" must be a non-empty string, received ${formatValue(value)}`,
    );
  }
  return value as string;
}

/**
 * The identity of a policy built with options `{ name? }`: `name` checked, defaulting to `kind`.
 * Policies call it once, in their constructor.
 */
export function identify(owner: string, kind: string, name: unknown): PolicyIdentity {
  return policyIdentity(kind, name === undefined ? kind : checkName(owner, 'name', name));
}
