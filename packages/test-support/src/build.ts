import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is packages/test-support/{src,dist}/build.*). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** `true` when tests must fail instead of skipping (`CI=true`, set by `.ci/run`). */
export function inCI(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

const STALE_LOCK_MS = 5 * 60_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds the whole workspace once (`tsc -b`: incremental, under a second when `dist/` is up to
 * date), so every test that spawns Node finds the built packages. Two test runs in the same
 * checkout take turns (a directory lock), so no child ever imports a half-written file.
 *
 * When the build fails: under `CI=true` it throws (no test runs); locally it warns loudly and
 * goes on, since `tsc -b` still emits the packages without errors and the tests of the sources
 * are worth running while one package does not compile.
 */
export function buildWorkspace(root = repoRoot): void {
  const lock = join(root, 'node_modules', '.faultline-build.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true });
      } catch {
        // Released meanwhile.
      }
      sleepSync(100);
    }
  }
  try {
    const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    const started = performance.now();
    const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, encoding: 'utf8' });
    if (build.status !== 0) {
      const message = `tsc -b failed (exit ${build.status}):\n${build.stdout}${build.stderr}`;
      if (inCI()) throw new Error(message);
      console.warn(`\n!!! ${message}\n!!! Tests that spawn Node run against what tsc emitted.\n`);
    } else if (performance.now() - started > 2_000) {
      console.info(`tsc -b: built the workspace in ${Math.round(performance.now() - started)} ms`);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
