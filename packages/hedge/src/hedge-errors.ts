import { ExecutionRejectedError } from '@faultline/core';

/**
 * The abort reason of a hedged attempt that lost: another attempt's acceptable outcome settled
 * the call first (Finagle's "superseded" backup request). The call never rejects with it; only a
 * losing attempt's signal carries it, so the attempt can tell "you lost the race" from "the caller
 * gave up". Code `HEDGE_SUPERSEDED`. One frozen instance per winning attempt number is shared by
 * every call (its stack says nothing about a call anyway).
 */
export class HedgeSupersededError extends ExecutionRejectedError {
  override name = 'HedgeSupersededError';
  /** The attempt whose outcome won. */
  readonly winner: number;

  constructor(winner: number) {
    super(`attempt ${winner} of the hedged call won; this attempt is no longer needed`, {
      code: 'HEDGE_SUPERSEDED',
    });
    this.winner = winner;
  }
}
