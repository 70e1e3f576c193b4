export {
  type Clock,
  MAX_TIMER_DELAY,
  neverAbortedSignal,
  sleep,
  sleepWith,
  systemClock,
  type TimerOptions,
} from './clock.js';
export {
  type ClockJumpEvent,
  type WatchClockJumpsOptions,
  watchClockJumps,
} from './clock-jumps.js';
export { Deadline, DeadlineExceededError } from './deadline.js';
export {
  ClockOffsetError,
  compareTimestamps,
  decodeTimestamp,
  encodeTimestamp,
  type HlcTimestamp,
  HybridLogicalClock,
  type HybridLogicalClockOptions,
} from './hlc.js';
export { estimateOffset, type OffsetEstimate, type OffsetSample } from './offset.js';
export { type PauseEvent, type WatchPausesOptions, watchPauses } from './pauses.js';
export { Stopwatch } from './stopwatch.js';
export { VirtualClock } from './virtual-clock.js';
export {
  deadlineFromGrpcTimeout,
  deadlineFromTimeoutMillis,
  deadlineToGrpcTimeout,
  deadlineToTimeoutMillis,
  formatGrpcTimeout,
  formatTimeoutMillis,
  InvalidTimeoutError,
  MAX_GRPC_TIMEOUT,
  MAX_TIMEOUT_MILLIS,
  parseGrpcTimeout,
  parseTimeoutMillis,
  type TimeoutWireFormat,
} from './wire.js';
