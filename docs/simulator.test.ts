/**
 * The simulator guide promises that a user can compare policies on their own latencies from the
 * page alone. Its commands are extracted and run as written (in docs/examples/simulator, with
 * the built CLI), its files must be the ones in that directory, and the output must carry the
 * verdict the page shows. The scenario file and `compare` must agree (same model, same seed).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const examples = join(root, 'docs', 'examples', 'simulator');
const cli = join(root, 'packages', 'sim', 'dist', 'cli.js');
const page = readFileSync(join(root, 'docs', 'guides', 'simulator.md'), 'utf8');
const section = page.slice(
  page.indexOf('## Your latencies, your policies: a verdict'),
  page.indexOf('## Compare your own configuration'),
);

function blocks(lang: string): string[] {
  return [...section.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
    (m) => m[1]!,
  );
}

/** Runs one documented command line, `faultline-sim` being the built CLI (global setup builds). */
async function run(
  command: string,
  cwd = examples,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const args = command.replace(/^faultline-sim /, '').split(/\s+/);
  const result = await runNode({ file: cli, args, cwd, timeout: 100_000 });
  return { status: result.code, stdout: result.stdout, stderr: result.stderr };
}

const verdict = (stdout: string): string => stdout.slice(stdout.indexOf('\n\n'));

describe('docs/guides/simulator.md: your latencies, your policies', () => {
  const commands = blocks('sh').flatMap((b) =>
    b.split('\n').filter((line) => line.startsWith('faultline-sim ')),
  );

  it('shows the example files as they are in docs/examples/simulator', () => {
    const json = blocks('json').map((b) => JSON.parse(b));
    expect(json).toContainEqual(
      JSON.parse(readFileSync(join(examples, 'policies', 'retry-3-budget.json'), 'utf8')),
    );
    expect(json).toContainEqual(
      JSON.parse(readFileSync(join(examples, 'three-policies.json'), 'utf8')),
    );
    expect(blocks('ts')).toContain(
      readFileSync(join(examples, 'breaker-in-code.ts'), 'utf8').replace(/^\/\/.*\n/gm, ''),
    );
    expect(commands).toHaveLength(4);
  });

  it('compare and the scenario file print the same table and verdict: three policies, a winner', async () => {
    const compare = await run(commands.find((c) => c.includes(' compare '))!);
    expect(compare.stderr).toBe('');
    expect(compare.status).toBe(0);
    const file = await run(commands.find((c) => c === 'faultline-sim run three-policies.json')!);
    expect(file.status).toBe(0);
    for (const policy of ['no-retry', 'retry-3', 'retry-3-budget']) {
      expect(file.stdout).toMatch(new RegExp(`^${policy} `, 'm'));
    }
    expect(file.stdout).toMatch(/Goodput: retry-3 wins with [\d.]+ successful requests\/s/);
    expect(file.stdout).toMatch(/Amplification while disturbed: no-retry sends the fewest/);
    expect(file.stdout).toMatch(/Trade-off: retry-3-budget keeps [\d.]+ % of the best goodput/);
    // The same model and seed: the same rows and the same verdict.
    const rows = (out: string) => out.split('\n').slice(1, 6).join('\n');
    expect(rows(compare.stdout)).toBe(rows(file.stdout));
    expect(verdict(compare.stdout)).toBe(verdict(file.stdout));
    // And the verdict the page quotes is the one it prints.
    const quoted = section.slice(section.indexOf('  Goodput: retry-3 wins'));
    expect(file.stdout).toContain(quoted.slice(0, quoted.indexOf('```')).trimEnd());
  }, 120_000);

  it('--report writes the HTML report, which opens with the verdict', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'faultline-sim-docs-')), 'orders-api.html');
    const result = await run(
      commands.find((c) => c.includes('--report'))!.replace('orders-api.html', out),
    );
    expect(result.status).toBe(0);
    const html = readFileSync(out, 'utf8');
    rmSync(out);
    const start = html.indexOf('<section');
    expect(html.indexOf('class="conclusion"', start)).toBeLessThan(html.indexOf('<svg', start));
    expect(html).toContain('Trade-off: retry-3-budget');
  }, 120_000);

  it('the TypeScript scenario with a policy written as code runs', async () => {
    const result = await run(commands.find((c) => c.endsWith('.ts'))!);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^retry-3-breaker /m);
    expect(result.stdout).toMatch(
      /Amplification while disturbed: retry-3-breaker sends the fewest/,
    );
  }, 120_000);

  it('the errors the page shows are the errors the CLI prints', async () => {
    const shown = section.match(/^faultline-sim: three-policies\.json: .*$/gm)!;
    expect(shown).toHaveLength(2);
    const original = readFileSync(join(examples, 'three-policies.json'), 'utf8');
    const typo = original.replace(
      '"maxAttempts": 3,\n        "backoff"',
      '"maxAttempt": 3,\n        "backoff"',
    );
    const gamma = original.replace(
      '{ "kind": "observed", "file": "latencies.csv", "column": "latency_ms" }',
      '{ "kind": "gamma", "shape": 2 }',
    );
    // A file of the same name, so that the message names it as the page does.
    const dir = mkdtempSync(join(tmpdir(), 'faultline-sim-docs-'));
    copyFileSync(join(examples, 'latencies.csv'), join(dir, 'latencies.csv'));
    for (const [variant, line] of [
      [typo, shown[0]!],
      [gamma, shown[1]!],
    ] as const) {
      expect(variant).not.toBe(original);
      writeFileSync(join(dir, 'three-policies.json'), variant);
      const broken = await run('faultline-sim run three-policies.json', dir);
      expect(broken.status).toBe(2);
      expect(broken.stderr).toBe(`${line}\n`);
    }
  });
});
