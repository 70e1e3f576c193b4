export {
  DetectorRegistry,
  type DetectorRegistryOptions,
  type WatchOptions,
} from './detector-registry.js';
export { ExponentialDetector, type ExponentialDetectorOptions } from './exponential-detector.js';
export type { FailureDetector } from './failure-detector.js';
export {
  HeartbeatHistory,
  type HeartbeatStatistics,
  MAX_SAMPLE_SIZE,
} from './heartbeat-history.js';
export { HeartbeatMonitor, type HeartbeatMonitorOptions } from './heartbeat-monitor.js';
export { elapsedForPhi, phi, standardizedElapsedForPhi } from './phi.js';
export { PhiAccrualDetector, type PhiAccrualDetectorOptions } from './phi-accrual-detector.js';
