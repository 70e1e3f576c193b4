export { buildWorkspace, inCI, repoRoot } from './build.js';
export type { ChildExitReport } from './child.js';
export {
  EXIT_LIMIT_MS,
  type NodeChild,
  type NodeRun,
  promptExitProblem,
  type RunNodeOptions,
  runNode,
  startNode,
} from './run-node.js';
