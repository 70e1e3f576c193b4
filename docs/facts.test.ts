/**
 * Statements of fact in the docs that drifted from the code or from the peers they describe
 * (issue 14 item 24), pinned to their sources.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

describe('docs state facts', () => {
  it("README's default REDIS_URL / DATABASE_URL are the ones the integration tests use", () => {
    const services = read('packages/test-support/src/services.ts');
    const defaults = [...services.matchAll(/env: '(\w+)',\s*url: '([^']+)'/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(defaults.map(([env]) => env).sort()).toEqual(['DATABASE_URL', 'REDIS_URL']);
    const readme = read('README.md');
    for (const [env, url] of defaults) {
      expect(readme, `${env} default`).toContain(`\`${url}\``);
    }
    expect(readme).not.toMatch(/`postgres:\/\/127\.0\.0\.1/); // the old default, without a user
  });

  it("migration.md: cockatiel 4's retry() waits nothing by default (ConstantBackoff(0))", () => {
    // cockatiel 4.0.0, src/Policy.ts: retry(policy, { maxAttempts, backoff }) builds
    // `opts.backoff || new ConstantBackoff(0)`. Decorrelated jitter is only the default
    // *generator* of `new ExponentialBackoff()`, which a user has to ask for.
    const migration = read('docs/migration.md');
    const row = migration.split('\n').find((line) => /^\| default (jitter|backoff)/.test(line));
    expect(row, 'the trap table has a default-backoff row').toBeDefined();
    const cockatiel = row!.split('|')[3]!;
    expect(cockatiel).toMatch(/ConstantBackoff\(0\)/);
    expect(cockatiel).not.toMatch(/^\s*decorrelated/);
  });
});
