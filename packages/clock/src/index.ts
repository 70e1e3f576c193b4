export {
  type Clock,
  MAX_TIMER_DELAY,
  sleep,
  sleepWith,
  systemClock,
  type TimerOptions,
} from './clock.js';
export { Deadline, DeadlineExceededError, neverAbortedSignal } from './deadline.js';
export { Stopwatch } from './stopwatch.js';
export { VirtualClock } from './virtual-clock.js';
