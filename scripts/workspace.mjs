// The workspace's packages, discovered (never listed by hand), for the repository scripts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Every directory of packages/ with a package.json: `{ dir, path, manifest }`. */
export function workspacePackages(root = repoRoot) {
  const parent = join(root, 'packages');
  if (!existsSync(parent)) return [];
  return readdirSync(parent, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(parent, entry.name, 'package.json')))
    .map((entry) => {
      const path = join(parent, entry.name);
      const manifest = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
      return { dir: `packages/${entry.name}`, path, manifest };
    })
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The packages that are published to npm: those not marked `private`. */
export function publishablePackages(root = repoRoot) {
  return workspacePackages(root).filter((pkg) => pkg.manifest.private !== true);
}

/** Runs `tasks` (functions returning promises) with at most `limit` at a time, in order. */
export async function inParallel(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
