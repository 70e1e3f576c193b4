// `pnpm start`: the simulator's standard comparison of retry policies (`faultline-sim all`) on
// the real faultline policies, with the embedded defaults. Prints the tables and writes a
// self-contained HTML report with charts to reports/faultline-report.html. The root `start`
// script builds first, so this imports the built CLI.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { main } from '../packages/sim/dist/cli/main.js';

const report = fileURLToPath(new URL('../reports/faultline-report.html', import.meta.url));
// Runs are spread over worker threads; the results are identical for any number of workers.
const workers = Math.max(1, Math.min(4, availableParallelism()));
const code = await main(['all', '--seed', '1', '--workers', String(workers), '--report', report]);
if (code === 0) console.log(`Open ${report} in a browser for the charts.`);
process.exitCode = code;
