import { type Context, checkFunction, checkOptions } from '@faultline/core';
import {
  CHAOS_DEFAULTS,
  type ChaosOptions,
  type ResolvedChaosOptions,
  resolveChaosOptions,
} from './chaos-options.js';

/** A side effect run before an injected call: restart a cache, drop a connection, fill a disk. */
export type ChaosBehaviorFunction = (ctx: Context) => void | PromiseLike<void>;

/** Options of {@link chaosBehavior}. */
export interface ChaosBehaviorOptions extends ChaosOptions {
  /**
   * Required. Runs (and is awaited) before an injected call runs. If it throws, the call rejects
   * with that error without running.
   */
  readonly behavior: ChaosBehaviorFunction;
}

/** Every default of {@link chaosBehavior} (`behavior` has none: it is required). */
export const CHAOS_BEHAVIOR_DEFAULTS = Object.freeze({ ...CHAOS_DEFAULTS, name: 'chaos-behavior' });

/** {@link ChaosBehaviorOptions}, validated and complete. */
export interface ResolvedChaosBehaviorOptions extends ResolvedChaosOptions {
  readonly behavior: ChaosBehaviorFunction;
}

const OWNER = 'chaosBehavior';

/** Validates {@link ChaosBehaviorOptions}; returns them complete. */
export function resolveChaosBehaviorOptions(options?: unknown): ResolvedChaosBehaviorOptions {
  const opts = checkOptions<ChaosBehaviorOptions>(OWNER, options);
  const behavior = checkFunction<ChaosBehaviorFunction>(OWNER, 'behavior', opts.behavior);
  return { ...resolveChaosOptions(OWNER, 'chaos-behavior', opts), behavior };
}
