export { ChaosBehaviorPolicy, chaosBehavior } from './chaos-behavior.js';
export type { ChaosBehaviorEvent } from './chaos-behavior-events.js';
export {
  CHAOS_BEHAVIOR_DEFAULTS,
  type ChaosBehaviorFunction,
  type ChaosBehaviorOptions,
  type ResolvedChaosBehaviorOptions,
  resolveChaosBehaviorOptions,
} from './chaos-behavior-options.js';
export { ChaosFaultPolicy, chaosFault } from './chaos-fault.js';
export type { ChaosFaultEvent } from './chaos-fault-events.js';
export {
  CHAOS_FAULT_DEFAULTS,
  type ChaosFaultOptions,
  type ResolvedChaosFaultOptions,
  resolveChaosFaultOptions,
} from './chaos-fault-options.js';
export { ChaosLatencyPolicy, chaosLatency } from './chaos-latency.js';
export type { ChaosLatencyEvent } from './chaos-latency-events.js';
export {
  CHAOS_LATENCY_DEFAULTS,
  type ChaosLatency,
  type ChaosLatencyOptions,
  type ResolvedChaosLatencyOptions,
  resolveChaosLatencyOptions,
} from './chaos-latency-options.js';
export {
  CHAOS_DEFAULTS,
  type ChaosEnabled,
  type ChaosOptions,
  type InjectionRate,
  type ResolvedChaosOptions,
  resolveChaosOptions,
} from './chaos-options.js';
export { ChaosOutcomePolicy, chaosOutcome } from './chaos-outcome.js';
export type { ChaosOutcomeEvent } from './chaos-outcome-events.js';
export {
  CHAOS_OUTCOME_DEFAULTS,
  type ChaosOutcomeFunction,
  type ChaosOutcomeOptions,
  type ResolvedChaosOutcomeOptions,
  resolveChaosOutcomeOptions,
} from './chaos-outcome-options.js';
export { ChaosPolicy } from './chaos-policy.js';
