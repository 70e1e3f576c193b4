// `@faultline/test-support/browser`: the helpers a test file can use wherever it runs (Node,
// headless Chromium, Bun, Deno). No module here may import a Node built-in or a Node-only
// package: scripts/browser-safe.mjs follows this entry through its sources like a workspace
// package, so a test that reaches one through here is still left out of the browser run.
// The bare `@faultline/test-support` (child processes, servers, the build) stays Node-only.
export { type Constructions, countConstructions } from './count-constructions.js';
export { type Deferred, deferred } from './deferred.js';
export {
  fakeTimersClock,
  type ManualClock,
  manualClock,
  type TimerClock,
} from './manual-clock.js';
export { refusal } from './refusal.js';
export { watchSettled } from './settled.js';
export { type Executes, expectSyncOutcomes } from './sync-outcomes.js';
export { type Subscribable, telemetryRecorder } from './telemetry-recorder.js';
export { thrownBy } from './thrown.js';
export { type TimerTracker, trackTimers } from './track-timers.js';
