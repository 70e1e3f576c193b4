import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { fleetBudget } from './fleet-budget.js';
import { FLEET_BUDGET_DEFAULTS, resolveFleetBudgetOptions } from './fleet-budget-options.js';
import { memoryFleetStore } from './memory-store.js';

const store = memoryFleetStore();
const base = { store, name: 'b' };

describe('fleetBudget options', () => {
  it('defaults: ratio budget (0.2, 10/s, 10 s), batch 10, sync 250, storeTimeout 100', () => {
    const o = resolveFleetBudgetOptions(base);
    expect(o.shape).toEqual({
      kind: 'ratio',
      ratio: 0.2,
      minRetriesPerSecond: 10,
      ttl: 10_000,
      deposit: 1000,
      withdrawal: 5000,
      reserve: 10 * 10 * 5000,
    });
    expect(o.batch).toBe(FLEET_BUDGET_DEFAULTS.batch);
    expect(o.sync).toBe(250);
    expect(o.storeTimeout).toBe(100);
    expect(Object.isFrozen(FLEET_BUDGET_DEFAULTS)).toBe(true);
  });

  it('a token budget in grpc-java milli-tokens', () => {
    const o = resolveFleetBudgetOptions({ ...base, budget: { maxTokens: 4, tokenRatio: 0.8 } });
    expect(o.shape).toEqual({
      kind: 'token',
      maxTokens: 4,
      tokenRatio: 0.8,
      max: 4000,
      threshold: 2000,
      deposit: 800,
    });
  });

  it('rejects each option with a wrong type (TypeError) or out of range (RangeError)', () => {
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [undefined, TypeError, /fleetBudget: option "store"/],
      ['x', TypeError, /fleetBudget: options must be an object/],
      [{ name: 'b' }, TypeError, /"store"/],
      [{ store: {}, name: 'b' }, TypeError, /"store" must be a FleetStore/],
      [{ store }, TypeError, /"name"/],
      [{ store, name: 5 }, TypeError, /"name"/],
      [{ store, name: '' }, RangeError, /"name"/],
      [{ ...base, budget: 5 }, TypeError, /"budget"/],
      [{ ...base, budget: { ratio: '0.1' } }, TypeError, /"ratio"/],
      [{ ...base, budget: { ratio: -1 } }, RangeError, /"ratio"/],
      [{ ...base, budget: { ttl: 10 } }, RangeError, /"ttl"/],
      [{ ...base, budget: { maxTokens: 0, tokenRatio: 1 } }, RangeError, /"maxTokens"/],
      [{ ...base, budget: { maxTokens: 4 } }, TypeError, /"tokenRatio"/],
      [{ ...base, batch: '10' }, TypeError, /"batch"/],
      [{ ...base, batch: 0 }, RangeError, /"batch"/],
      [{ ...base, batch: 1.5 }, RangeError, /"batch"/],
      [{ ...base, sync: '250' }, TypeError, /"sync"/],
      [{ ...base, sync: 5 }, RangeError, /"sync"/],
      [{ ...base, storeTimeout: null }, TypeError, /"storeTimeout"/],
      [{ ...base, storeTimeout: 0 }, RangeError, /"storeTimeout"/],
      [{ ...base, clock: {} }, TypeError, /"clock"/],
    ];
    for (const [options, Kind, message] of bad) {
      expect(() => fleetBudget(options as never), JSON.stringify(options)).toThrow(Kind);
      expect(() => fleetBudget(options as never)).toThrow(message);
    }
  });

  it('the stores validate their options too', () => {
    expect(() => memoryFleetStore({ clock: 5 as never })).toThrow(TypeError);
    expect(() => memoryFleetStore({ failing: true as never })).toThrow(/"failing"/);
    const budget = fleetBudget({ ...base, clock: new VirtualClock() });
    budget.dispose();
  });
});
