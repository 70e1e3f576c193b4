#!/usr/bin/env node
/**
 * `faultline-sim <scenario | all> [--seed n] [--runs n] [--json] [--report out.html] [--workers n]`
 * The Node entry of @faultline/sim (`@faultline/sim/cli`, bin `faultline-sim`).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from './cli/main.js';

export { parseArgs, usage } from './cli/args.js';
export { type CliIo, main } from './cli/main.js';

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
      process.stderr.write(
        `faultline-sim: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
