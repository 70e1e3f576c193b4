export type { DetectorOptions } from './detector-options.js';
export { DetectorRegistry } from './detector-registry.js';
export type {
  DetectorRegistryRecoverEvent,
  DetectorRegistrySuspectEvent,
} from './detector-registry-events.js';
export {
  DETECTOR_REGISTRY_DEFAULTS,
  type DetectorRegistryOptions,
  type ResolvedDetectorRegistryOptions,
  type ResolvedWatchOptions,
  resolveDetectorRegistryOptions,
  resolveWatchOptions,
  type WatchOptions,
} from './detector-registry-options.js';
export { ExponentialDetector } from './exponential-detector.js';
export {
  EXPONENTIAL_DETECTOR_DEFAULTS,
  type ExponentialDetectorOptions,
  type ResolvedExponentialDetectorOptions,
  resolveExponentialDetectorOptions,
} from './exponential-detector-options.js';
export type { FailureDetector } from './failure-detector.js';
export {
  HeartbeatHistory,
  type HeartbeatStatistics,
  MAX_SAMPLE_SIZE,
} from './heartbeat-history.js';
export { HeartbeatMonitor } from './heartbeat-monitor.js';
export type { HeartbeatMonitorProbeFailureEvent } from './heartbeat-monitor-events.js';
export {
  HEARTBEAT_MONITOR_DEFAULTS,
  type HeartbeatMonitorOptions,
  type ResolvedHeartbeatMonitorOptions,
  resolveHeartbeatMonitorOptions,
} from './heartbeat-monitor-options.js';
export { elapsedForPhi, phi, standardizedElapsedForPhi } from './phi.js';
export { PhiAccrualDetector } from './phi-accrual-detector.js';
export {
  PHI_ACCRUAL_DETECTOR_DEFAULTS,
  type PhiAccrualDetectorOptions,
  type ResolvedPhiAccrualDetectorOptions,
  resolvePhiAccrualDetectorOptions,
} from './phi-accrual-detector-options.js';
