/**
 * The getting-started page promises a runnable flow: its "Run it" program is extracted, compiled
 * (type-stripped with TypeScript), pointed at the built `faultline` package (built by the Vitest
 * global setup) and run, and its output must tell the story the page tells.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runNode } from '@faultline/test-support';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('docs/getting-started.md', () => {
  it('the "Run it" program runs and every layer does its job', async () => {
    const page = readFileSync(join(root, 'docs', 'getting-started.md'), 'utf8');
    const section = page.slice(page.indexOf('## 3. Run it'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block, 'a ts block under "## 3. Run it"').toBeDefined();
    const entry = pathToFileURL(join(root, 'packages', 'faultline', 'dist', 'index.js')).href;
    const js = ts
      .transpileModule(block!, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      })
      .outputText.replace(/from 'faultline'/, `from ${JSON.stringify(entry)}`);
    const dir = mkdtempSync(join(tmpdir(), 'faultline-getting-started-'));
    try {
      const file = join(dir, 'main.mjs');
      writeFileSync(file, js);
      const result = await runNode({ file, timeout: 60_000 });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const out = result.stdout;
      // Every call got an answer (possibly a 503 or a timeout once the budget said no).
      for (let call = 1; call <= 20; call++) expect(out).toContain(`call ${call}: `);
      // Retries happened for 503s (Retry-After: 0) and for the hung request (a timeout).
      expect(out).toMatch(/attempt 1 failed \(HTTP 503\); retrying in 0 ms/);
      expect(out).toMatch(/failed \(TimeoutError: timed out after \d+ ms\); retrying/);
      // The adaptive timeout learned the fast regime: from its 1 s initial value down towards its
      // 50 ms floor (1.5 × the slowest of the recent answers on a loaded machine).
      const learned = [...out.matchAll(/per-attempt timeout \d+ ms → (\d+) ms/g)].map((m) =>
        Number(m[1]),
      );
      expect(learned.length).toBeGreaterThan(0);
      expect(learned.at(-1)!).toBeLessThan(1_000);
      expect(out).toMatch(/\d+ requests reached the server for 20 calls; budget tokens left: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
