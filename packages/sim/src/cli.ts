#!/usr/bin/env node
/**
 * `faultline-sim <scenario | all> | run <file> | compare …` (see `faultline-sim --help`).
 * The Node entry of @faultline/sim (`@faultline/sim/cli`, bin `faultline-sim`): the CLI, and the
 * readers of scenario files, policy files and observed latencies.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from './cli/main.js';

export { parseArgs, usage } from './cli/args.js';
export { type CliIo, main, version } from './cli/main.js';
export { loadPolicyFile, loadScenarioFile, readLatencies } from './file/load.js';

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    // The bin is a symlink into dist/: compare real paths.
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // Not a user mistake (those are one line and exit code 2, in main): a bug, with its stack.
      process.stderr.write(
        `faultline-sim: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
