// Everything of the browser-safe entry too, so a Node-only test needs one import.
export * from './browser.js';
export { buildWorkspace, inCI, repoRoot } from './build.js';
export type { ChildExitReport } from './child.js';
export {
  type FlakyBehaviour,
  type FlakyRequest,
  type FlakyServer,
  type FlakyServerOptions,
  startFlakyServer,
} from './flaky-server.js';
export { type LeakCheckOptions, type LeakReport, leakCheck, leakScript } from './leak.js';
export { readmeNumber, readmeOptionsTable } from './readme.js';
export {
  EXIT_LIMIT_MS,
  type NodeChild,
  type NodeRun,
  promptExitProblem,
  type RunNodeOptions,
  runNode,
  startNode,
} from './run-node.js';
export {
  type ClosableRedis,
  type CommandLog,
  cleanUpRedis,
  commandLog,
  deleteKeys,
  type EchoClient,
  freePort,
  type MonitorFeed,
  requireBinary,
  type ScanningRedis,
  type SentCommand,
  type ServiceKind,
  serviceUrl,
  startRedisServer,
  type ThrowawayRedis,
  throwawayRedisArgs,
} from './services.js';
export { type CapturedStreams, captureStreams } from './streams.js';
