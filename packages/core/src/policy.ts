import { systemClock } from '@faultline/clock';
import { checkString, formatValue } from '@faultline/clock/internal';
import {
  adoptContext,
  type Context,
  contextFor,
  type ExecutionContext,
  LabelledContext,
} from './context.js';
import { isExecutionRejected } from './errors.js';
import {
  checkName,
  type ExecutionOutcome,
  type TelemetryExecutionRecord,
  telemetry,
} from './telemetry.js';

/** The second argument of `execute`, when there is more to say than a signal. */
export interface ExecuteOptions {
  /** The caller's signal: aborting it rejects the call with its reason. */
  readonly signal?: AbortSignal | undefined;
  /**
   * A label for this call in telemetry (Polly's operation key), e.g. `'GET /users/:id'`. Keep its
   * values few: each distinct one is a metric series. Default none.
   */
  readonly operation?: string | undefined;
}

/** Anything that can run an async function with resilience added around it. */
export interface Policy {
  /**
   * Runs `fn` under this policy. With an already aborted `signal` it rejects with
   * `signal.reason` without calling `fn`. `fn` may return a value or a promise, or throw.
   * (faultline's own policies also accept `{ signal, operation }`: see {@link PolicyBase.execute}.)
   */
  execute<T>(fn: (ctx: Context) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T>;
}

/** What {@link PolicyBase.describe} returns: enough to assert a pipeline's shape in a test. */
export interface PolicyDescription {
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** The policies inside a pipeline, outermost first. */
  readonly policies?: readonly PolicyDescription[];
}

/**
 * The key of the method faultline policies use to hand a context (deadline, attempt, lazy signal)
 * to each other. Public so that other libraries can write policies that compose the same way.
 */
export const executeInContext: unique symbol = Symbol.for('faultline.executeInContext');

/** The function a policy wraps. */
export type Task<T> = (ctx: Context) => T | PromiseLike<T>;

/** Calls `fn(ctx)`, turning a synchronous throw into a rejection. */
export function invoke<T>(fn: Task<T>, ctx: Context): T | PromiseLike<T> {
  try {
    return fn(ctx);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The base of every faultline policy: subclasses implement {@link executeInContext} and
 * {@link describe}; `execute` handles the caller's signal.
 */
export abstract class PolicyBase implements Policy {
  /**
   * Runs `fn` under this policy. The second argument is the caller's signal, or
   * `{ signal, operation }` where `operation` labels the call in telemetry. With an already
   * aborted signal it rejects with `signal.reason` without calling `fn`.
   */
  execute<T>(fn: Task<T>, signalOrOptions?: AbortSignal | ExecuteOptions): Promise<T> {
    let signal: AbortSignal | undefined;
    let operation: string | undefined;
    if (signalOrOptions !== undefined) {
      if (isSignal(signalOrOptions)) signal = signalOrOptions;
      else ({ signal, operation } = checkExecuteOptions(signalOrOptions));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const ctx = contextFor(signal, operation);
    if (telemetry.hasSubscribers) return observeExecution(this, fn, ctx);
    try {
      return this[executeInContext](fn, ctx);
    } catch (error) {
      // A subclass whose executeInContext is not `async` must still never throw synchronously.
      return Promise.reject(error);
    }
  }

  abstract [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T>;

  /** Name and options, for tests and diagnostics. */
  abstract describe(): PolicyDescription;
}

function isSignal(value: unknown): value is AbortSignal {
  return (
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function'
  );
}

function checkExecuteOptions(options: unknown): ExecuteOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `execute: the second argument must be an AbortSignal or an options object { signal, operation }, received ${formatValue(options)}`,
    );
  }
  const { signal, operation } = options as ExecuteOptions;
  if (signal !== undefined && !isSignal(signal)) {
    throw new TypeError(
      `execute: option "signal" must be an AbortSignal, received ${formatValue(signal)}`,
    );
  }
  if (operation !== undefined) checkString('execute', 'operation', operation);
  return { signal, operation };
}

/** `execute` while telemetry has subscribers: the same call, and an execution record after. */
function observeExecution<T>(policy: PolicyBase, fn: Task<T>, ctx: ExecutionContext): Promise<T> {
  const pipelineName = policy instanceof Pipeline ? policy.name : undefined;
  const start = systemClock.now();
  const publish = (outcome: ExecutionOutcome, error?: unknown): void => {
    if (!telemetry.hasSubscribers) return;
    const record: { -readonly [K in keyof TelemetryExecutionRecord]: TelemetryExecutionRecord[K] } =
      {
        type: 'execution',
        pipeline: pipelineName,
        operation: ctx.operation,
        duration: systemClock.now() - start,
        outcome,
      };
    if (outcome !== 'success') record.error = error;
    telemetry.publish(record);
  };
  let promise: Promise<T>;
  try {
    promise = policy[executeInContext](fn, ctx);
  } catch (error) {
    promise = Promise.reject(error);
  }
  return promise.then(
    (value) => {
      publish('success');
      return value;
    },
    (error: unknown) => {
      publish(isExecutionRejected(error) ? 'rejected' : 'failure', error);
      throw error;
    },
  );
}

/**
 * Describes any policy: a faultline policy's own {@link PolicyBase.describe}, or for a foreign
 * policy (a plain object with `execute`) its class name (`'policy'` when it has none) and no options.
 */
export function describePolicy(policy: Policy): PolicyDescription {
  const describe = (policy as { describe?: unknown }).describe;
  if (typeof describe === 'function') return (describe as () => PolicyDescription).call(policy);
  const ctorName = (policy as { constructor?: { name?: unknown } }).constructor?.name;
  const name =
    typeof ctorName === 'string' && ctorName !== '' && ctorName !== 'Object' ? ctorName : 'policy';
  return { name, options: {} };
}

/** Whether `policy` speaks the context protocol (every faultline policy does). */
export function isContextual(policy: Policy): policy is PolicyBase {
  return typeof (policy as Partial<PolicyBase>)[executeInContext] === 'function';
}

/** Runs `fn` through `policy` inside `ctx`, whether or not `policy` is a faultline policy. */
export function executeWithin<T>(policy: Policy, fn: Task<T>, ctx: ExecutionContext): Promise<T> {
  // An enclosing policy may have aborted the call between policies (a timeout that fired while
  // a retry was deciding): nothing inside runs for a caller that is gone. This is the check
  // between every two policies of a pipeline, so no policy calls `fn` for an aborted caller.
  if (ctx.aborted) return Promise.reject(ctx.abortReason);
  try {
    if (isContextual(policy)) return policy[executeInContext](fn, ctx);
    // A foreign policy only understands signals: deadlines and attempts stop at its boundary.
    return policy.execute(fn, ctx.signal);
  } catch (error) {
    // Neither kind of policy may throw synchronously at the policy around it.
    return Promise.reject(error);
  }
}

class NoopPolicy extends PolicyBase {
  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    // Promise.resolve hands a native promise back as is: no extra promise or tick, unlike an
    // async function returning one.
    return Promise.resolve(invoke(fn, ctx));
  }

  describe(): PolicyDescription {
    return { name: 'noop', options: {} };
  }
}

/** A policy that adds nothing: `pipeline()` with no policies. */
export const noop: PolicyBase = new NoopPolicy();

/** A list of policies applied outermost first; see {@link pipeline} and {@link named}. */
export class Pipeline extends PolicyBase {
  readonly policies: readonly Policy[];
  /** The name given by {@link named}, carried by the telemetry of every policy inside. */
  readonly name: string | undefined;

  constructor(policies: readonly Policy[], name?: string) {
    super();
    this.policies = policies;
    this.name = name;
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    // The label is only read by telemetry, so it costs nothing while nobody subscribes.
    if (this.name !== undefined && telemetry.hasSubscribers) {
      ctx = new LabelledContext(ctx, this.name);
    }
    return this.#run(0, fn, ctx);
  }

  #run<T>(index: number, fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const policy = this.policies[index]!;
    if (index === this.policies.length - 1) return executeWithin(policy, fn, ctx);
    // A faultline policy passes an ExecutionContext on; a foreign one passes whatever it has,
    // which adoptContext makes whole (policies inside rely on aborted, child(), withAttempt()).
    return executeWithin(
      policy,
      (inner) => this.#run(index + 1, fn, adoptContext(inner, ctx)),
      ctx,
    );
  }

  describe(): PolicyDescription {
    return {
      name: 'pipeline',
      options: this.name === undefined ? {} : { name: this.name },
      policies: this.policies.map(describePolicy),
    };
  }
}

/**
 * Composes policies, **first = outermost** (like Polly; the opposite order of resilience4j's
 * decorators). Nested pipelines flatten (a {@link named} one keeps its name and stays whole); no
 * policies gives {@link noop}; one gives itself.
 */
export function pipeline(...policies: Policy[]): PolicyBase {
  const flat: Policy[] = [];
  for (const [index, policy] of policies.entries()) {
    if (
      policy === null ||
      typeof policy !== 'object' ||
      typeof (policy as Partial<Policy>).execute !== 'function'
    ) {
      throw new TypeError(
        `pipeline: argument ${index} must be a Policy (an object with execute()), received ${formatValue(policy)}`,
      );
    }
    if (policy instanceof Pipeline && policy.name === undefined) flat.push(...policy.policies);
    else if (policy !== noop) flat.push(policy);
  }
  if (flat.length === 0) return noop;
  if (flat.length === 1 && isContextual(flat[0]!)) return flat[0] as PolicyBase;
  return new Pipeline(flat);
}

/**
 * Names a pipeline (or any policy) for telemetry: every record published by the policies inside
 * carries `pipeline: name` (the innermost name wins when named pipelines nest), and each
 * top-level `execute` publishes an execution record under it. Choose a name per downstream or
 * per use (`'github'`, `'payments-write'`), not per request.
 *
 * @example
 * ```ts
 * const github = named('github', pipeline(timeout(10_000), retry(), circuitBreaker()));
 * ```
 */
export function named(name: string, policy: Policy): Pipeline {
  checkName('named', 'name', name);
  if (
    policy === null ||
    typeof policy !== 'object' ||
    typeof (policy as Partial<Policy>).execute !== 'function'
  ) {
    throw new TypeError(
      `named: argument "policy" must be a Policy (an object with execute()), received ${formatValue(policy)}`,
    );
  }
  return new Pipeline(policy instanceof Pipeline ? policy.policies : [policy], name);
}
