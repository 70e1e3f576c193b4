// The browser-safe packages' unit tests on Bun and Deno, both from their npm packages (fetched by
// npx; nothing else is downloaded). Not part of `pnpm test` (two ~50 MB runtimes); run it with
// `pnpm test:runtimes [bun] [deno] [--package <name>]…` and read the summary table: per runtime
// and package, tests passed, failed and excluded, then every exclusion with its reason and every
// failure with its first error. The exit code is 1 when any test fails.
//
// - The test files are the ones headless Chromium runs (scripts/browser-safe.mjs: a file that
//   reaches a Node built-in or a Node-only package is left out, with that reason), plus those
//   that reach only node:assert / node:events, which Bun and Deno implement themselves
//   (RUNTIME_BUILTINS: idempotency's conformance tests).
// - Bun: its own test runner (`bun test`, one run per package), which runs Vitest files as they
//   are (it maps the `vitest` import to `bun:test`), with the `@faultline/source` export condition
//   and scripts/bun-vitest-shim.mjs preloaded (vi.stubGlobal / vi.unstubAllGlobals, which Bun's
//   `vi` lacks).
// - Deno: Deno's test runner needs `Deno.test`, so Vitest itself runs on Deno (`deno run -A
//   vitest`): the same test files, one Vitest project per package, Deno executing them.
// - EXCLUDED below: the tests that cannot run on one runtime, by name or file, each with the
//   reason (and the upstream issue where there is one). Nothing else is skipped.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { browserTestPlan } from './browser-safe.mjs';
import { repoRoot } from './workspace.mjs';

const BUN = 'bun@1.4.4';
const DENO = 'deno@2.9.6';
const VERSIONS = { bun: BUN, deno: DENO };
/** A package's run is stopped (its whole process group) after this long: a hang is a failure. */
const PACKAGE_TIMEOUT_MS = { bun: 300_000, deno: 900_000 };

/**
 * Tests left out on one runtime, by `test` (the test's own name, as it appears after the last
 * `>`) or by `file`; `reason` says why. Keep each entry as narrow as the cause.
 */
export const EXCLUDED = [
  {
    runtime: 'bun',
    package: 'core',
    test: 'a waiter that waits past its timeout leaves with the timeout error',
    reason:
      'Bun runtime bug: expect(pending).rejects spins the event loop synchronously until the promise settles, so a promise that settles only after the next statement (clock.advance) hangs the run, past --timeout (oven-sh/bun#14950)',
  },
  {
    runtime: 'bun',
    package: 'core',
    test: 'rejects with the timeout error when the time passes first; a late settle is ignored',
    reason: 'Bun runtime bug: expect(pending).rejects hangs, as above (oven-sh/bun#14950)',
  },
  {
    runtime: 'bun',
    package: 'core',
    test: 'a throwing listener does not stop the others or the call',
    reason:
      "bun test fails the running test on any uncaught error (here reportError's) without calling process 'uncaughtException' listeners, which this test installs to observe the report (the isBunTest short-circuit described in oven-sh/bun#36445)",
  },
  {
    runtime: 'bun',
    package: 'failure-detector',
    test: 'a random source outside [0, 1]: start() throws naming it; a later break is reported, never a NaN timer',
    reason:
      "bun test fails the running test on the reportError it checks for, as above; the test's own 'uncaughtException' listener is never called (oven-sh/bun#36445)",
  },
  {
    runtime: 'bun',
    package: 'core',
    test: 'without reportError (Node), a throwing listener surfaces as an uncaught exception',
    reason:
      "asserts Node's behaviour (no global reportError); Bun has reportError, and the test beside it covers that path (left out in Chromium for the same reason)",
  },
  {
    runtime: 'deno',
    package: 'core',
    test: 'without reportError (Node), a throwing listener surfaces as an uncaught exception',
    reason:
      "asserts Node's behaviour (no global reportError); Deno has reportError, and the test beside it covers that path (left out in Chromium and Bun for the same reason)",
  },
  {
    runtime: 'bun',
    package: 'timeout',
    file: 'packages/timeout/src/success-path.test.ts',
    reason:
      "needs vi.resetModules() (re-evaluates the modules after wrapping Error and AbortController); Bun's `vi` has no module registry to reset",
  },
];

const args = process.argv.slice(2);
const onlyPackages = args.flatMap((arg, i) => (args[i - 1] === '--package' ? [arg] : []));
const wanted = args.filter((arg, i) => !arg.startsWith('-') && args[i - 1] !== '--package');
const runtimes = wanted.length > 0 ? wanted : ['bun', 'deno'];
for (const runtime of runtimes) {
  if (!(runtime in VERSIONS)) throw new RangeError(`unknown runtime ${JSON.stringify(runtime)}`);
}

/** Node built-ins that Bun and Deno provide natively: test files reaching only these run there. */
const RUNTIME_BUILTINS = new Set(['node:events', 'node:assert', 'node:assert/strict']);

const plan = browserTestPlan(repoRoot, RUNTIME_BUILTINS).filter(
  (pkg) => onlyPackages.length === 0 || onlyPackages.includes(pkg.name),
);

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const strip = (text) => text.replace(ANSI, '');
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs a command in its own process group; on timeout the whole group is killed. */
function capture(command, commandArgs, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, output: strip(output) });
    });
  });
}

function exclusionsFor(runtime, name) {
  const entries = EXCLUDED.filter((e) => e.runtime === runtime && e.package === name);
  const files = new Set(entries.filter((e) => e.file !== undefined).map((e) => e.file));
  const tests = entries.filter((e) => e.test !== undefined).map((e) => e.test);
  // Anchored at the end of the full name ("describe > … > test" on Bun, "describe … test" in
  // Vitest), so an entry leaves out that test and nothing whose name merely contains it.
  const pattern =
    tests.length === 0 ? undefined : `^(?!.*(?:${tests.map(escapeRegExp).join('|')})$)`;
  return { entries, files, tests, pattern };
}

/** Bun: one `bun test` per package. */
async function bunPackage(pkg) {
  const { files, pattern } = exclusionsFor('bun', pkg.name);
  const run = pkg.runnable.filter((file) => !files.has(file));
  const { code, output, timedOut } = await capture(
    'npx',
    [
      '-y',
      BUN,
      'test',
      '--preload',
      './scripts/bun-vitest-shim.mjs',
      '--conditions',
      '@faultline/source',
      '--timeout',
      '20000',
      ...(pattern === undefined ? [] : ['--test-name-pattern', pattern]),
      ...run.map((file) => `./${file}`),
    ],
    PACKAGE_TIMEOUT_MS.bun,
  );
  const count = (word) => Number(new RegExp(`^\\s*(\\d+) ${word}$`, 'm').exec(output)?.[1] ?? 0);
  const failures = [...output.matchAll(/^\(fail\) ([^\n]*?)(?: \[[\d.]+m?s\])?$/gm)].map(
    (m) => m[1],
  );
  const errors = count('errors?');
  const firstError =
    /^(?:error|TypeError|ReferenceError|SyntaxError|RangeError|Error)[^\n]*$/m.exec(output)?.[0];
  return {
    code,
    passed: count('pass'),
    failed: count('fail') + errors + (timedOut ? 1 : 0),
    skippedByName: count('filtered out'),
    failures: [
      ...new Set(failures),
      ...(errors > 0 ? [`${errors} error(s) outside tests`] : []),
      ...(timedOut ? [`timed out after ${PACKAGE_TIMEOUT_MS.bun / 1000} s`] : []),
    ],
    firstError,
    output,
  };
}

/** Deno: Vitest on Deno, one project (package) at a time, read from Vitest's JSON report. */
async function denoPackage(pkg, dir) {
  const { files, pattern } = exclusionsFor('deno', pkg.name);
  const run = pkg.runnable.filter((file) => !files.has(file));
  const report = join(dir, `${pkg.name}.json`);
  const { code, output, timedOut } = await capture(
    'npx',
    [
      '-y',
      DENO,
      'run',
      '-A',
      'node_modules/vitest/vitest.mjs',
      'run',
      '--project',
      pkg.name,
      ...(pattern === undefined ? [] : ['--testNamePattern', pattern]),
      '--reporter=json',
      `--outputFile=${report}`,
      ...run,
    ],
    PACKAGE_TIMEOUT_MS.deno,
  );
  if (!existsSync(report)) {
    return {
      code,
      passed: 0,
      failed: 1,
      skippedByName: 0,
      failures: [timedOut ? 'timed out' : 'no report'],
      firstError: output.trim().split('\n').slice(-5).join(' / '),
      output,
    };
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  let passed = 0;
  let skippedByName = 0;
  const failures = [];
  let firstError;
  for (const suite of json.testResults) {
    const tests = suite.assertionResults ?? [];
    passed += tests.filter((t) => t.status === 'passed').length;
    skippedByName += tests.filter((t) => t.status === 'skipped' || t.status === 'pending').length;
    for (const t of tests.filter((t) => t.status === 'failed')) {
      failures.push(`${relative(repoRoot, suite.name)}: ${t.fullName}`);
      firstError ??= t.failureMessages?.[0]?.split('\n')[0];
    }
    if (tests.length === 0 && suite.status === 'failed') {
      failures.push(`${relative(repoRoot, suite.name)}: ${suite.message?.split('\n')[0]}`);
      firstError ??= suite.message?.split('\n')[0];
    }
  }
  return { code, passed, failed: failures.length, skippedByName, failures, firstError, output };
}

const rows = [];
for (const runtime of runtimes) {
  const dir = mkdtempSync(join(tmpdir(), `faultline-${runtime}-`));
  try {
    for (const pkg of plan) {
      const started = performance.now();
      const result = runtime === 'bun' ? await bunPackage(pkg) : await denoPackage(pkg, dir);
      // Never green by silence: a run that failed without a failing test (an error outside the
      // tests, a runtime that did not start) or that ran nothing counts as a failure.
      if (result.failed === 0 && (result.code !== 0 || result.passed === 0)) {
        result.failed = 1;
        result.failures.push(
          result.passed === 0 ? 'no test ran' : `exit code ${result.code} with no failing test`,
        );
        result.firstError ??= result.output.trim().split('\n').slice(-3).join(' / ');
      }
      const seconds = (performance.now() - started) / 1000;
      const { entries, tests } = exclusionsFor(runtime, pkg.name);
      const row = { runtime, pkg, seconds, entries, ...result };
      if (row.skippedByName !== tests.length) {
        // A renamed test leaves its exclusion matching nothing (or a new test matches one).
        console.warn(
          `  ! ${pkg.name}: ${tests.length} test(s) excluded by name, ${row.skippedByName} left out: check EXCLUDED`,
        );
      }
      rows.push(row);
      console.log(
        `${VERSIONS[runtime]} ${pkg.name}: ${row.passed} passed, ${row.failed} failed, ${row.skippedByName} left out by name (${seconds.toFixed(0)} s)`,
      );
      if (process.env.FAULTLINE_RUNTIMES_VERBOSE !== undefined) console.log(result.output);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The summary: one row per runtime and package, a total per runtime, then the reasons.
const header = ['runtime', 'package', 'passed', 'failed', 'excluded tests', 'excluded files'];
const excludedFiles = (row) =>
  row.pkg.excluded.length + row.entries.filter((e) => e.file !== undefined).length;
const table = [];
for (const runtime of runtimes) {
  const mine = rows.filter((row) => row.runtime === runtime);
  for (const row of mine) {
    table.push([
      VERSIONS[runtime],
      row.pkg.name,
      String(row.passed),
      String(row.failed),
      String(row.skippedByName),
      String(excludedFiles(row)),
    ]);
  }
  const sum = (count) => String(mine.reduce((n, row) => n + count(row), 0));
  table.push([
    VERSIONS[runtime],
    'total',
    sum((row) => row.passed),
    sum((row) => row.failed),
    sum((row) => row.skippedByName),
    sum(excludedFiles),
  ]);
}
const widths = header.map((title, i) => Math.max(title.length, ...table.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
console.log(`\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const cells of table) console.log(line(cells));

if (runtimes.includes('bun')) {
  console.log(
    "\nBun: scripts/bun-vitest-shim.mjs is preloaded, adding vi.stubGlobal and vi.unstubAllGlobals (Vitest's semantics), which Bun's `vi` lacks.",
  );
}
console.log('\nExcluded on one runtime (scripts/test-runtimes.mjs, EXCLUDED):');
for (const entry of EXCLUDED.filter(
  (e) => runtimes.includes(e.runtime) && plan.some((pkg) => pkg.name === e.package),
)) {
  console.log(
    `  ${entry.runtime} ${entry.package}: ${entry.test ?? entry.file}\n    ${entry.reason}`,
  );
}
console.log(
  '\nTest files left out on Bun and Deno (they reach a Node-only module; scripts/browser-safe.mjs):',
);
for (const pkg of plan) {
  for (const { file, reason } of pkg.excluded) console.log(`  ${file}: ${reason}`);
}

const failed = rows.filter((row) => row.failed > 0);
if (failed.length > 0) {
  console.log('\nFailures:');
  for (const row of failed) {
    console.log(`  ${VERSIONS[row.runtime]} ${row.pkg.name}: ${row.firstError ?? ''}`);
    for (const name of row.failures) console.log(`    ${name}`);
  }
  process.exitCode = 1;
}
