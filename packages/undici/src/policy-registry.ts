import { systemClock } from '@faultline/clock';
import {
  checkFunction,
  checkOptions,
  EventChannel,
  type ExecutionContext,
  executeInContext,
  executeWithin,
  formatValue,
  identify,
  type Listener,
  optionalFunction,
  optionalNumber,
  type Policy,
  PolicyBase,
  type PolicyDescription,
  type PolicyIdentity,
  publishEvent,
  type Task,
  telemetry,
} from '@faultline/core';

const OWNER = 'policyRegistry';

/** Builds the policy for a key (a host, a route, a dependency name). */
export type PolicyFactory<P extends Policy = Policy> = (key: string) => P;

/** Options of {@link policyRegistry}. */
export interface PolicyRegistryOptions<P extends Policy = Policy> {
  /** Builds a key's policy on first use, and again on {@link PolicyRegistry.reload}. Required. */
  readonly create: PolicyFactory<P>;
  /**
   * The most keys the registry holds. Beyond it `get` throws a `RangeError`: keys are meant to be
   * hosts or routes (a few), and keying by URL or user would grow without bound. Default 1 000.
   */
  readonly maxKeys?: number;
  /** Names the registry in telemetry. Default `'policy-registry'`. */
  readonly name?: string;
}

/** The defaults of {@link policyRegistry}. */
export const POLICY_REGISTRY_DEFAULTS = Object.freeze({ maxKeys: 1_000 });

/** Emitted when a key's policy was rebuilt by a reload. */
export interface PolicyRegistryReloadEvent {
  readonly key: string;
}

/** Emitted when rebuilding a key's policy threw: the key keeps its old policy. */
export interface PolicyRegistryReloadFailedEvent {
  readonly key: string;
  readonly error: unknown;
}

/** What {@link PolicyRegistry.reload} did. */
export interface PolicyRegistryReloadResult {
  /** Keys now on a new policy. */
  readonly reloaded: readonly string[];
  /** Keys whose factory threw: they keep their old policy. */
  readonly failed: readonly string[];
}

class Entry<P extends Policy> {
  constructor(public current: P) {}
}

/**
 * The stable policy a registry hands out for a key. Each call runs on the key's policy as it is
 * when the call starts, so a reload never disturbs a call in flight: it finishes on the old one.
 */
export class RegisteredPolicy<P extends Policy = Policy> extends PolicyBase {
  readonly key: string;
  readonly #entry: Entry<P>;

  /** @internal built by {@link PolicyRegistry.get}. */
  constructor(key: string, entry: Entry<P>) {
    super();
    this.key = key;
    this.#entry = entry;
  }

  /** The policy calls run on now. */
  get current(): P {
    return this.#entry.current;
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    return executeWithin(this.#entry.current, fn, ctx);
  }

  describe(): PolicyDescription {
    const current = this.#entry.current as Partial<PolicyBase>;
    return {
      name: 'registered',
      options: { key: this.key },
      policies: typeof current.describe === 'function' ? [current.describe()] : [],
    };
  }
}

/**
 * Policies by key, created on first use and rebuilt on reload, as Polly's `ResiliencePipelineRegistry`
 * and resilience4j's registries do. Build it with {@link policyRegistry}.
 */
export class PolicyRegistry<P extends Policy = Policy> {
  readonly #entries = new Map<string, { entry: Entry<P>; handle: RegisteredPolicy<P> }>();
  #create: PolicyFactory<P>;
  readonly #maxKeys: number;
  readonly #identity: PolicyIdentity;
  readonly #onReload = new EventChannel<PolicyRegistryReloadEvent>();
  readonly #onReloadFailed = new EventChannel<PolicyRegistryReloadFailedEvent>();

  constructor(options: PolicyRegistryOptions<P>) {
    const opts = checkOptions<PolicyRegistryOptions<P>>(OWNER, options);
    this.#create = checkFunction<PolicyFactory<P>>(OWNER, 'create', opts.create);
    this.#maxKeys = optionalNumber(
      OWNER,
      'maxKeys',
      opts.maxKeys,
      POLICY_REGISTRY_DEFAULTS.maxKeys,
      {
        min: 1,
        integer: true,
        allowInfinity: true,
      },
    );
    this.#identity = identify(OWNER, 'policy-registry', opts.name);
  }

  /** The registry's name in telemetry. */
  get name(): string {
    return this.#identity.name;
  }

  /** Keys held. */
  get size(): number {
    return this.#entries.size;
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /**
   * The policy for `key`, built by `create(key)` on first use (a throw from `create` reaches the
   * caller and nothing is stored). The same object is returned for a key every time, across
   * reloads.
   */
  get(key: string): RegisteredPolicy<P> {
    if (typeof key !== 'string') {
      throw new TypeError(
        `${OWNER}.get: argument "key" must be a string, received ${formatValue(key)}`,
      );
    }
    const found = this.#entries.get(key);
    if (found !== undefined) return found.handle;
    if (this.#entries.size >= this.#maxKeys) {
      throw new RangeError(
        `${OWNER}.get: already ${this.#entries.size} keys (option "maxKeys"); key policies by host or route, not by URL or user`,
      );
    }
    const entry = new Entry(this.#checked(key, this.#create(key)));
    const handle = new RegisteredPolicy(key, entry);
    this.#entries.set(key, { entry, handle });
    return handle;
  }

  /** Forgets `key` (calls in flight finish on its policy). */
  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /**
   * Rebuilds every key's policy, with `create` if given (it then also builds later keys). A key
   * whose factory throws keeps its old policy and an `onReloadFailed` event (and a
   * `registry-reload-failed` telemetry record) says so; if any key failed, a new `create` is not
   * adopted for later keys either. Calls in flight finish on the policy they started on.
   */
  reload(create?: PolicyFactory<P>): PolicyRegistryReloadResult {
    const factory = optionalFunction<PolicyFactory<P>>(OWNER, 'create', create, this.#create);
    const reloaded: string[] = [];
    const failed: string[] = [];
    for (const [key, { entry }] of this.#entries) {
      let next: P;
      try {
        next = this.#checked(key, factory(key));
      } catch (error) {
        failed.push(key);
        if (this.#onReloadFailed.hasListeners) this.#onReloadFailed.emit({ key, error });
        if (telemetry.hasSubscribers) {
          publishEvent(
            this.#identity,
            undefined,
            'registry-reload-failed',
            systemClock.now(),
            error,
          );
        }
        continue;
      }
      entry.current = next;
      reloaded.push(key);
      if (this.#onReload.hasListeners) this.#onReload.emit({ key });
    }
    if (failed.length === 0) this.#create = factory;
    return { reloaded, failed };
  }

  /** After a key's policy was rebuilt by a reload. */
  onReload(listener: Listener<PolicyRegistryReloadEvent>): () => void {
    return this.#onReload.subscribe(listener);
  }

  /** After rebuilding a key's policy threw (the key keeps its old policy). */
  onReloadFailed(listener: Listener<PolicyRegistryReloadFailedEvent>): () => void {
    return this.#onReloadFailed.subscribe(listener);
  }

  #checked(key: string, policy: unknown): P {
    if (
      policy === null ||
      typeof policy !== 'object' ||
      typeof (policy as Partial<Policy>).execute !== 'function'
    ) {
      throw new TypeError(
        `${OWNER}: option "create" must return a Policy for key ${formatValue(key)}, received ${formatValue(policy)}`,
      );
    }
    return policy as P;
  }
}

/**
 * Policies by key (per host or route), created on first use, with reload.
 *
 * @example
 * ```ts
 * const registry = policyRegistry({ create: (host) => standardHttpPipeline({ name: host }) });
 * const res = await registry.get('api.github.com').execute(fetchTask('https://api.github.com/zen'));
 * ```
 */
export function policyRegistry<P extends Policy = Policy>(
  options: PolicyRegistryOptions<P>,
): PolicyRegistry<P> {
  return new PolicyRegistry(options);
}
