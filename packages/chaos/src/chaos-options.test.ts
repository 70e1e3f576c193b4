import { describe, expect, it } from 'vitest';
import { chaosBehavior } from './chaos-behavior.js';
import { CHAOS_BEHAVIOR_DEFAULTS, resolveChaosBehaviorOptions } from './chaos-behavior-options.js';
import { chaosFault } from './chaos-fault.js';
import { CHAOS_FAULT_DEFAULTS, resolveChaosFaultOptions } from './chaos-fault-options.js';
import { chaosLatency } from './chaos-latency.js';
import { CHAOS_LATENCY_DEFAULTS, resolveChaosLatencyOptions } from './chaos-latency-options.js';
import { CHAOS_DEFAULTS } from './chaos-options.js';
import { chaosOutcome } from './chaos-outcome.js';
import { CHAOS_OUTCOME_DEFAULTS, resolveChaosOutcomeOptions } from './chaos-outcome-options.js';

type Factory = (options: Record<string, unknown>) => unknown;
type Case = readonly [option: string, value: unknown, error: typeof TypeError | typeof RangeError];

const factories: ReadonlyArray<readonly [string, Factory, Record<string, unknown>]> = [
  ['chaosFault', chaosFault as unknown as Factory, { fault: new Error('x') }],
  ['chaosLatency', chaosLatency as unknown as Factory, { latency: 10 }],
  ['chaosOutcome', chaosOutcome as unknown as Factory, { outcome: () => 1 }],
  ['chaosBehavior', chaosBehavior as unknown as Factory, { behavior: () => {} }],
];

const common: readonly Case[] = [
  ['injectionRate', '0.1', TypeError],
  ['injectionRate', Number.NaN, TypeError],
  ['injectionRate', 1.5, RangeError],
  ['injectionRate', -0.1, RangeError],
  ['enabled', 'yes', TypeError],
  ['enabled', 1, TypeError],
  ['random', 0.5, TypeError],
  ['clock', {}, TypeError],
  ['name', 7, TypeError],
  ['name', '', RangeError],
];

describe('chaos options', () => {
  for (const [owner, factory, required] of factories) {
    it.each(common)(`${owner}: %s = %o is a %O naming the option`, (option, value, error) => {
      const build = () => factory({ ...required, [option]: value });
      expect(build).toThrow(error);
      expect(build).toThrow(new RegExp(`${owner}: option "${option}"`));
    });

    it(`${owner}: options must be an object`, () => {
      expect(() => factory(5 as never)).toThrow(/options must be an object/);
    });
  }

  it.each([
    ['chaosFault', () => chaosFault({} as never), /option "fault" is required/],
    ['chaosLatency', () => chaosLatency({} as never), /option "latency" is required/],
    ['chaosLatency', () => chaosLatency({ latency: '5' } as never), /option "latency"/],
    ['chaosLatency', () => chaosLatency({ latency: -1 }), /option "latency" must be/],
    ['chaosOutcome', () => chaosOutcome({ outcome: 5 } as never), /option "outcome"/],
    ['chaosBehavior', () => chaosBehavior({} as never), /option "behavior"/],
  ] as const)('%s: the kind-specific option is checked', (_owner, build, message) => {
    expect(build).toThrow(message);
  });

  it('a negative latency is a RangeError, a missing one a TypeError', () => {
    expect(() => chaosLatency({ latency: -1 })).toThrow(RangeError);
    expect(() => chaosLatency({} as never)).toThrow(TypeError);
  });

  it('resolves the documented defaults', () => {
    const checks = [
      [resolveChaosFaultOptions({ fault: 1 }), CHAOS_FAULT_DEFAULTS],
      [resolveChaosLatencyOptions({ latency: 1 }), CHAOS_LATENCY_DEFAULTS],
      [resolveChaosOutcomeOptions({ outcome: () => 1 }), CHAOS_OUTCOME_DEFAULTS],
      [resolveChaosBehaviorOptions({ behavior: () => {} }), CHAOS_BEHAVIOR_DEFAULTS],
    ] as const;
    for (const [resolved, defaults] of checks) {
      expect(resolved).toMatchObject({
        injectionRate: CHAOS_DEFAULTS.injectionRate,
        enabled: true,
        random: Math.random,
        clock: CHAOS_DEFAULTS.clock,
      });
      expect(resolved.identity).toEqual({ kind: defaults.name, name: defaults.name });
      expect(Object.isFrozen(defaults)).toBe(true);
    }
    expect(CHAOS_DEFAULTS.injectionRate).toBe(0.001);
  });
});
