import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { renderReport } from '../report/html.js';
import { runScenario } from '../run.js';
import { type ScenarioReport, scenarios } from '../scenarios/index.js';
import { formatTable, tableOf } from '../table.js';
import { runScenarioOnWorkers } from '../workers/pool.js';
import { parseArgs, UsageError, usage } from './args.js';
import { ProgressBar } from './progress.js';

/** Where the CLI writes. */
export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** The `faultline-sim` command; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = process): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`faultline-sim: ${error.message}\n\n${usage}`);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    io.stdout.write(usage);
    return 0;
  }
  const progress = new ProgressBar(io.stderr);
  const reports: ScenarioReport[] = [];
  const started = performance.now();
  for (const name of args.scenarios) {
    progress.start(name);
    const onProgress = (done: number, total: number): void => progress.update(done, total);
    const report =
      args.workers > 1
        ? await runScenarioOnWorkers(name, {
            seed: args.seed,
            workers: args.workers,
            onProgress,
            ...(args.runs === undefined ? {} : { runs: args.runs }),
          })
        : await runScenario(name, {
            seed: args.seed,
            ...(args.runs === undefined ? {} : { runs: args.runs }),
            simulate: { onProgress },
          });
    progress.done();
    reports.push(report);
    if (!args.json) io.stdout.write(`${formatTable(tableOf(report))}\n\n`);
  }
  if (args.json) {
    const output = reports.length === 1 ? reports[0] : { scenarios: reports };
    io.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  }
  if (args.report !== undefined) {
    const file = resolve(args.report);
    const runs =
      args.runs === undefined
        ? 'default runs'
        : `${args.runs} run${args.runs === 1 ? '' : 's'} per configuration`;
    const html = renderReport(reports, {
      subtitle: `faultline-sim ${args.scenarios.length === Object.keys(scenarios).length ? 'all' : args.scenarios.join(' ')} --seed ${args.seed} (${runs}); simulated on the real faultline policies in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
    });
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, html);
    io.stderr.write(`report written to ${file}\n`);
  }
  return 0;
}
