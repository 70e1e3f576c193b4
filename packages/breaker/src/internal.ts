/**
 * `@faultline/breaker/internal`: the checks that the fleet-wide breaker (`@faultline/fleet`)
 * shares with `circuitBreaker`, so that both accept and reject the same values with the same
 * messages: a `trip` option, and the duration a permit reports. Not part of the breaker's API:
 * for faultline's own packages, and it may change in any release.
 *
 * @packageDocumentation
 */
export { checkTrip } from './circuit-breaker-options.js';
export { checkPermitDuration } from './circuit-breaker-permit.js';
