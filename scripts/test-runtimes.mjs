// The browser-safe packages' unit tests on Bun and Deno, both from their npm packages (fetched by
// npx; nothing else is downloaded). Not part of `pnpm test` (two ~50 MB runtimes); run it with
// `pnpm test:runtimes [bun] [deno]` and read the summary: tests passed and failed per runtime, and
// every test file that does not pass there, with its first error.
//
// - Bun: its own test runner (`bun test`, one run per package), which runs Vitest files as they
//   are (it maps the `vitest` import to `bun:test`), with the `@faultline/source` export condition.
// - Deno: Deno's test runner needs `Deno.test`, so Vitest itself runs on Deno (`deno run -A
//   vitest`): the same test files, one Vitest project per package, Deno executing them.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { BROWSER_SAFE } from './browser-safe.mjs';
import { repoRoot } from './workspace.mjs';

const BUN = 'bun@1.4.4';
const DENO = 'deno@2.9.6';
const run = promisify(execFile);
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const runtimes = wanted.length > 0 ? wanted : ['bun', 'deno'];

const packages = BROWSER_SAFE.filter((name) => existsSync(join(repoRoot, 'packages', name, 'src')));

function testFiles(name) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.test.ts')) files.push(relative(repoRoot, path));
    }
  };
  walk(join(repoRoot, 'packages', name, 'src'));
  return files.sort();
}

async function capture(command, args, options) {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd: repoRoot,
      maxBuffer: 256 * 1024 * 1024,
      ...options,
    });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    return { code: error.code ?? 1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` };
  }
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const strip = (text) => text.replace(ANSI, '');

/** Bun: one `bun test` per package; failing tests are listed by name with their file. */
async function bun() {
  const results = [];
  for (const name of packages) {
    const { output } = await capture(
      'npx',
      [
        '-y',
        BUN,
        'test',
        '--conditions',
        '@faultline/source',
        '--timeout',
        '20000',
        `packages/${name}`,
      ],
      { timeout: 900_000 },
    );
    const text = strip(output);
    const pass = Number(/^\s*(\d+) pass$/m.exec(text)?.[1] ?? 0);
    const fail = Number(/^\s*(\d+) fail$/m.exec(text)?.[1] ?? 0);
    const errors = Number(/^\s*(\d+) errors?$/m.exec(text)?.[1] ?? 0);
    const failedNames = [...text.matchAll(/^\(fail\) ([^\n]*)$/gm)].map((m) => m[1]);
    results.push({
      file: `packages/${name}`,
      pass,
      fail: fail + errors,
      firstError: /^(?:error|TypeError|ReferenceError|SyntaxError|Error)[^\n]*$/m.exec(text)?.[0],
      failedNames,
    });
  }
  return results;
}

/** Deno: Vitest on Deno, one project (package) at a time, read from Vitest's JSON report. */
async function deno() {
  const results = [];
  const dir = mkdtempSync(join(tmpdir(), 'faultline-deno-'));
  try {
    for (const name of packages) {
      const report = join(dir, `${name}.json`);
      const { output } = await capture(
        'npx',
        [
          '-y',
          DENO,
          'run',
          '-A',
          'node_modules/vitest/vitest.mjs',
          'run',
          '--project',
          name,
          '--reporter=json',
          `--outputFile=${report}`,
        ],
        { timeout: 900_000 },
      );
      if (!existsSync(report)) {
        for (const file of testFiles(name)) {
          results.push({ file, pass: 0, fail: 1, firstError: strip(output).trim().split('\n')[0] });
        }
        continue;
      }
      const json = JSON.parse(readFileSync(report, 'utf8'));
      for (const suite of json.testResults) {
        const tests = suite.assertionResults ?? [];
        const failed = tests.filter((t) => t.status === 'failed');
        const firstError =
          failed[0]?.failureMessages?.[0]?.split('\n')[0] ?? suite.message?.split('\n')[0];
        results.push({
          file: relative(repoRoot, suite.name),
          pass: tests.filter((t) => t.status === 'passed').length,
          fail: failed.length + (tests.length === 0 && suite.status === 'failed' ? 1 : 0),
          firstError: failed.length > 0 || suite.status === 'failed' ? firstError : undefined,
          failedNames: failed.map((t) => t.title),
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

for (const runtime of runtimes) {
  const started = performance.now();
  const results = runtime === 'bun' ? await bun() : await deno();
  const pass = results.reduce((n, r) => n + r.pass, 0);
  const fail = results.reduce((n, r) => n + r.fail, 0);
  const version = runtime === 'bun' ? BUN : DENO;
  console.log(
    `\n${version}: ${pass} passed, ${fail} failed, in ${results.length} files of ${packages.join(', ')} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
  );
  for (const result of results.filter((r) => r.fail > 0)) {
    const names = result.failedNames?.length ? ` [${result.failedNames.join(' | ')}]` : '';
    console.log(
      `  ${result.file}: ${result.pass} passed, ${result.fail} failed: ${result.firstError ?? ''}${names}`,
    );
  }
}
