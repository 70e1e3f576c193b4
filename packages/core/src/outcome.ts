import { formatValue } from '@faultline/clock/internal';
import type { Context } from './context.js';

/** The result of one execution: a value or an error. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/**
 * Decides whether a reactive policy (retry, breaker, fallback, hedge) treats an outcome as a
 * failure. A rejection caused by the caller's own abort is never handled, whatever this says.
 */
export type ShouldHandle = (outcome: Outcome<unknown>, ctx: Context) => boolean;

// Rules known never to handle a successful result. Policies ask `ignoresResults` so that the
// success path can skip building an Outcome object and calling the rule at all.
const resultBlind = new WeakSet<ShouldHandle>();

function blind(rule: ShouldHandle): ShouldHandle {
  resultBlind.add(rule);
  return rule;
}

/**
 * Whether `rule` is known never to handle a successful result (`handleAll`, `handleNone`,
 * `handleErrors(...)`, and `or(...)` of such rules). A policy may then skip classifying successes.
 * `false` means "may handle results" (any hand-written rule).
 */
export function ignoresResults(rule: ShouldHandle): boolean {
  return resultBlind.has(rule);
}

/** Handles every error (but no result). */
export const handleAll: ShouldHandle = blind((outcome) => !outcome.ok);

/** Handles no outcome at all. */
export const handleNone: ShouldHandle = blind(() => false);

/** A class whose instances {@link handleErrors} matches with `instanceof`. */
// biome-ignore lint/suspicious/noExplicitAny: constructor of any error class
export type ErrorClass = abstract new (...args: any[]) => unknown;
/** A test {@link handleErrors} calls with the error. */
export type ErrorPredicate = (error: unknown) => boolean;

function isClass(value: ErrorClass | ErrorPredicate): value is ErrorClass {
  // Error classes (and any `class` declaration) are matched with instanceof; other functions
  // are predicates.
  return (
    value === Error ||
    value.prototype instanceof Error ||
    /^class\b/.test(Function.prototype.toString.call(value))
  );
}

/**
 * Handles errors that are instances of one of the given classes or satisfy one of the given
 * predicates: `handleErrors(TypeError, (e) => e.code === 'ECONNRESET')`.
 */
export function handleErrors(...matchers: Array<ErrorClass | ErrorPredicate>): ShouldHandle {
  if (matchers.length === 0) return handleAll;
  for (const matcher of matchers) {
    if (typeof matcher !== 'function') {
      throw new TypeError(
        `handleErrors: each argument must be an error class or a predicate, received ${formatValue(matcher)}`,
      );
    }
  }
  const tests: ErrorPredicate[] = matchers.map((matcher) =>
    isClass(matcher) ? (error: unknown) => error instanceof matcher : matcher,
  );
  // A loop rather than `tests.some(...)`, whose callback would be a closure per classified error
  // (a retry's failure path runs this once per attempt).
  return blind((outcome) => {
    if (outcome.ok) return false;
    const error = outcome.error;
    for (let i = 0; i < tests.length; i++) if (tests[i]!(error)) return true;
    return false;
  });
}

/** Handles successful results that satisfy `predicate`, e.g. a `Response` with status 503. */
export function handleResults<T = unknown>(predicate: (value: T) => boolean): ShouldHandle {
  if (typeof predicate !== 'function') {
    throw new TypeError(
      `handleResults: predicate must be a function, received ${formatValue(predicate)}`,
    );
  }
  return (outcome) => outcome.ok && predicate(outcome.value as T);
}

/** Handles an outcome that any of the given rules handles. */
export function or(...rules: ShouldHandle[]): ShouldHandle {
  for (const rule of rules) {
    if (typeof rule !== 'function') {
      throw new TypeError(
        `or: each argument must be a ShouldHandle function, received ${formatValue(rule)}`,
      );
    }
  }
  const combined: ShouldHandle = (outcome, ctx) => rules.some((rule) => rule(outcome, ctx));
  return rules.every(ignoresResults) ? blind(combined) : combined;
}
