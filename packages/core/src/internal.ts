/**
 * `@faultline/core/internal`: the pieces every faultline package shares and no user needs: an
 * intrusive linked list, a queue of abortable waiters, a promise-vs-timer race, a queue of timers
 * behind one platform timer, a lazily created child context (`LazyChildContext`), `isThenable`,
 * `formatMs`, `discardResult`, `describeFunction`. For faultline's own packages (and policy
 * authors who accept that these may change in any release); applications use the main entry.
 *
 * @packageDocumentation
 */
export { describeFunction } from './internal/describe.js';
export { discardResult } from './internal/discard.js';
export { formatMs } from './internal/format.js';
export {
  CHILD_ABORTED,
  CHILD_DISPOSED,
  CHILD_FREE_BIT,
  LazyChildContext,
} from './internal/lazy-child.js';
export { LinkedList, ListNode } from './internal/linked-list.js';
export { isThenable, raceTimer } from './internal/race.js';
export { type TimerEntry, TimerQueue } from './internal/timer-queue.js';
export { Waiter, WaitQueue } from './internal/wait-queue.js';
