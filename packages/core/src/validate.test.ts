import * as clockPublic from '@faultline/clock';
import * as clock from '@faultline/clock/internal';
import { describe, expect, it } from 'vitest';
import * as core from './index.js';

describe('option validators', () => {
  it("are @faultline/clock/internal's, re-exported under the same names (one implementation)", () => {
    const pairs: Array<[string, unknown, unknown]> = [
      ['checkBoolean', core.checkBoolean, clock.checkBoolean],
      ['checkFunction', core.checkFunction, clock.checkFunction],
      ['checkNumber', core.checkNumber, clock.checkNumber],
      ['checkOneOf', core.checkOneOf, clock.checkOneOf],
      ['checkOptions', core.checkOptions, clock.checkOptions],
      ['checkString', core.checkString, clock.checkString],
      ['formatValue', core.formatValue, clock.formatValue],
      ['optionalClock', core.optionalClock, clock.optionalClock],
      ['optionalFunction', core.optionalFunction, clock.optionalFunction],
      ['optionalNumber', core.optionalNumber, clock.optionalNumber],
    ];
    for (const [name, fromCore, fromClock] of pairs) {
      expect(fromCore, name).toBeTypeOf('function');
      expect(fromCore, name).toBe(fromClock);
      // Not the clock's public API: core is the policy author's entry point.
      expect(name in clockPublic, name).toBe(false);
    }
  });
});
