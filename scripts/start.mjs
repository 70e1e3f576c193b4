// `pnpm start`: the simulator's standard comparison of retry policies (`faultline-sim all`) on
// the real faultline policies, with the embedded defaults. Prints the tables and conclusions and
// writes a self-contained HTML report with charts to reports/faultline-report.html.
//
// It says what it is doing before anything slow (the build, then the simulation), on stdout,
// whether or not stdout is a terminal; progress goes to stderr, as a bar on a terminal and as
// plain lines otherwise (CI logs, `pnpm start | tee log`).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line) => process.stdout.write(`faultline: ${line}\n`);

say('building the packages (tsc -b; a few seconds, longer the first time)…');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const build = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  say('the build failed (see above)');
  process.exit(build.status ?? 1);
}

const { main } = await import(
  pathToFileURL(fileURLToPath(new URL('../packages/sim/dist/cli/main.js', import.meta.url))).href
);
const { scenarioNames } = await import(
  pathToFileURL(fileURLToPath(new URL('../packages/sim/dist/index.js', import.meta.url))).href
);
const report = fileURLToPath(new URL('../reports/faultline-report.html', import.meta.url));
// Runs are spread over worker threads; the results are identical for any number of workers.
const workers = Math.max(1, Math.min(4, availableParallelism()));
say(
  `simulating ${scenarioNames.length} scenarios (${scenarioNames.join(', ')}) on ${workers} worker thread${workers === 1 ? '' : 's'}, seed 1; about a minute on 2 cores`,
);
const code = await main([
  'all',
  '--seed',
  '1',
  '--workers',
  String(workers),
  '--report',
  report,
  '--progress',
  process.stderr.isTTY ? 'bar' : 'lines',
]);
if (code === 0) say(`open ${report} in a browser for the charts`);
process.exitCode = code;
