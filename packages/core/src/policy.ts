import { adoptContext, type Context, contextFor, type ExecutionContext } from './context.js';

/** Anything that can run an async function with resilience added around it. */
export interface Policy {
  /**
   * Runs `fn` under this policy. With an already aborted `signal` it rejects with
   * `signal.reason` without calling `fn`. `fn` may return a value or a promise, or throw.
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
  execute<T>(fn: Task<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    try {
      return this[executeInContext](fn, contextFor(signal));
    } catch (error) {
      // A subclass whose executeInContext is not `async` must still never throw synchronously.
      return Promise.reject(error);
    }
  }

  abstract [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T>;

  /** Name and options, for tests and diagnostics. */
  abstract describe(): PolicyDescription;
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

/** A list of policies applied outermost first. */
export class Pipeline extends PolicyBase {
  readonly policies: readonly Policy[];

  constructor(policies: readonly Policy[]) {
    super();
    this.policies = policies;
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
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
      options: {},
      policies: this.policies.map(describePolicy),
    };
  }
}

/**
 * Composes policies, **first = outermost** (like Polly; the opposite order of resilience4j's
 * decorators). Nested pipelines flatten; no policies gives {@link noop}; one gives itself.
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
        `pipeline: argument ${index} must be a Policy (an object with execute()), received ${String(policy)}`,
      );
    }
    if (policy instanceof Pipeline) flat.push(...policy.policies);
    else if (policy !== noop) flat.push(policy);
  }
  if (flat.length === 0) return noop;
  if (flat.length === 1 && isContextual(flat[0]!)) return flat[0] as PolicyBase;
  return new Pipeline(flat);
}
