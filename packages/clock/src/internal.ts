/**
 * `@faultline/clock/internal`: the option validators every faultline package shares, and the
 * listener-error reporter of every event channel. They live in this package, at the bottom of the
 * dependency graph, because the clock validates its own arguments and cannot import
 * `@faultline/core`. They are not part of the clock's API: `@faultline/core` re-exports the
 * validators under the same names, and that is where policy authors import them from. This entry
 * may change in any release.
 *
 * @packageDocumentation
 */
export {
  type ClockMethod,
  checkBoolean,
  checkFunction,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkString,
  formatValue,
  type NumberRange,
  optionalClock,
  optionalFunction,
  optionalNumber,
  reportListenerError,
} from './validate.js';
