import type { ExecutionContext } from './context.js';
import { ignoresResults, type Outcome, type ShouldHandle } from './outcome.js';

/**
 * What a reactive policy makes of one outcome:
 * - `'handled'`: a failure the policy acts on (retry it, count it against the circuit, replace it);
 * - `'unhandled'`: not the policy's business (pass it through; a breaker counts it a success);
 * - `'aborted'`: the caller (or an enclosing timeout) gave up. Never handled, and never a success:
 *   the policy counts it for nothing and settles with the abort reason (or the error as it is).
 */
export type Verdict = 'handled' | 'unhandled' | 'aborted';

/**
 * The one outcome classification every reactive policy (retry, circuit breaker, throttle,
 * fallback, hedge) uses, so that the rules below are written once:
 * 1. A rejection that arrives after the caller's context aborted is the caller's abort: never
 *    handled, whatever `shouldHandle` says, and `shouldHandle` is not even asked.
 * 2. A result `shouldHandle` would handle (a 503 `Response`) that arrives after the caller aborted
 *    is not a success either: `'aborted'`. A result it does not handle is a success even then (the
 *    downstream did answer).
 * 3. When `shouldHandle` never handles a result (core's `handleAll`, `handleErrors(...)`, `or` of
 *    such rules), {@link classifiesResults} is `false` and the success path skips building an
 *    `Outcome` and calling the rule.
 * 4. A `shouldHandle` that throws: its error propagates from {@link classify}. The policy lets it
 *    replace the outcome as the call's rejection and counts the outcome for nothing (a breaker
 *    frees the permit, a budget ticket ends as failed).
 */
export class OutcomeClassifier {
  readonly shouldHandle: ShouldHandle;
  /** Whether a successful result must be classified at all (see rule 3). */
  readonly classifiesResults: boolean;

  constructor(shouldHandle: ShouldHandle) {
    this.shouldHandle = shouldHandle;
    this.classifiesResults = !ignoresResults(shouldHandle);
  }

  /** Classifies `outcome` of a call that ran in `ctx` (rules 1, 2 and 4). */
  classify(outcome: Outcome<unknown>, ctx: ExecutionContext): Verdict {
    if (!outcome.ok) {
      if (ctx.aborted) return 'aborted';
      return this.shouldHandle(outcome, ctx) === true ? 'handled' : 'unhandled';
    }
    if (!this.classifiesResults || this.shouldHandle(outcome, ctx) !== true) return 'unhandled';
    return ctx.aborted ? 'aborted' : 'handled';
  }

  /** Shorthand for `classify({ ok: false, error }, ctx)`. */
  classifyError(error: unknown, ctx: ExecutionContext): Verdict {
    if (ctx.aborted) return 'aborted';
    return this.shouldHandle({ ok: false, error }, ctx) === true ? 'handled' : 'unhandled';
  }
}
