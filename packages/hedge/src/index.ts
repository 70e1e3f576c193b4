export { type HedgeMode, HedgePolicy, hedge } from './hedge.js';
export { HedgeSupersededError } from './hedge-errors.js';
export type {
  HedgeEvent,
  HedgeSkipEvent,
  HedgeSkipReason,
  HedgeTrigger,
  HedgeWinEvent,
} from './hedge-events.js';
export {
  HEDGE_DEFAULTS,
  type HedgeDelay,
  type HedgeOptions,
  type ResolvedHedgeOptions,
  resolveHedgeOptions,
} from './hedge-options.js';
export {
  LEARNED_DELAY_DEFAULTS,
  LearnedDelay,
  type LearnedDelayOptions,
  learnedDelay,
  type ResolvedLearnedDelayOptions,
  resolveLearnedDelayOptions,
} from './learned-delay.js';
