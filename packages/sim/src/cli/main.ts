import { readFileSync } from 'node:fs';
import { access, constants, mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { loadPolicyFile, loadScenarioFile, readLatencies } from '../file/load.js';
import { ScenarioFileError } from '../file/validate.js';
import { renderReport } from '../report/html.js';
import {
  type ComparisonSpec,
  comparisonScenario,
  type PolicySpec,
} from '../scenarios/comparison.js';
import type { ScenarioDefinition, ScenarioReportBase } from '../scenarios/definition.js';
import { scenarioNames, scenarios } from '../scenarios/index.js';
import { runPlan } from '../scenarios/options.js';
import { formatSection } from '../table.js';
import { runOnWorkers } from '../workers/pool.js';
import type { ScenarioSource } from '../workers/protocol.js';
import { type CliArgs, parseArgs, UsageError, usage } from './args.js';
import { ProgressBar } from './progress.js';

/** Where the CLI writes. */
export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** The version of this package. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

interface Job {
  readonly definition: ScenarioDefinition;
  readonly source: ScenarioSource;
  readonly seed: number;
  readonly runs: number;
}

/** `compare`'s defaults as a scenario: what `--print-scenario` prints and what runs. */
export async function compareSpec(
  args: CliArgs,
): Promise<{ spec: ComparisonSpec; runnable: ComparisonSpec }> {
  const file = args.latencies!;
  const values = await readLatencies(
    resolve(file),
    args.column === undefined ? {} : { column: args.column },
  );
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const rate = args.rate ?? 100;
  const duration = (args.duration ?? 60) * 1000;
  const outage = args.outage === undefined ? { from: 20, to: 30 } : args.outage;
  if (outage !== null && outage.to * 1000 > duration) {
    throw new UsageError(
      `--outage ${outage.from}-${outage.to} ends after the run (--duration ${duration / 1000})`,
    );
  }
  // Workers for 80 % utilisation at the mean observed latency: busy, with room to absorb retries.
  const concurrency = Math.max(1, Math.ceil((rate * mean) / 1000 / 0.8));
  const policies: Record<string, PolicySpec> = {};
  for (const path of args.policies) {
    const { name, policy } = await loadPolicyFile(path);
    if (Object.hasOwn(policies, name)) {
      throw new ScenarioFileError(
        '',
        `${path}: a second policy named "${name}" (give it a "name")`,
      );
    }
    policies[name] = policy;
  }
  const observed = {
    kind: 'observed' as const,
    file,
    ...(args.column === undefined ? {} : { column: args.column }),
  };
  const spec: ComparisonSpec = {
    name: 'compare',
    description: `The observed latencies of ${basename(file)} (${values.length} values, mean ${mean.toFixed(1)} ms) as the downstream's service time; ${rate} requests/s (open loop) on ${concurrency} workers (80 % utilisation at that mean)${args.failureRate ? `; ${args.failureRate * 100} % of requests fail on their own` : ''}${outage === null ? '' : `; an outage answering 503 from ${outage.from} s to ${outage.to} s`}.`,
    duration,
    traffic: { kind: 'open', rate },
    downstream: {
      latency: observed,
      concurrency,
      queueLimit: 1000,
      ...(args.failureRate === undefined ? {} : { failureRate: args.failureRate }),
      ...(outage === null
        ? {}
        : {
            incidents: [
              {
                kind: 'outage',
                start: outage.from * 1000,
                duration: (outage.to - outage.from) * 1000,
              },
            ],
          }),
    },
    network: { latency: { kind: 'normal', mean: 1, sd: 0.2 } },
    policies,
  };
  const runnable: ComparisonSpec = {
    ...spec,
    downstream: {
      ...spec.downstream,
      latency: { kind: 'empirical', values, source: basename(file) },
    },
  };
  return { spec, runnable };
}

/** Fails before any simulation when the report could not be written. */
async function checkReportPath(path: string): Promise<string> {
  const file = resolve(path);
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    throw new UsageError(
      `--report ${path} is a directory; give a file name, e.g. ${path.replace(/\/$/, '')}/report.html`,
    );
  }
  const parent = dirname(file);
  try {
    await mkdir(parent, { recursive: true });
    await access(parent, constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `--report ${path}: cannot write in ${parent} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  return file;
}

async function jobsOf(args: CliArgs, io: CliIo): Promise<Job[] | undefined> {
  switch (args.command) {
    case 'run': {
      const spec = await loadScenarioFile(args.file!);
      const definition = comparisonScenario(spec) as unknown as ScenarioDefinition;
      return [
        {
          definition,
          source: { kind: 'file', path: resolve(args.file!) },
          seed: args.seed ?? spec.seed ?? 1,
          runs: args.runs ?? definition.defaultRuns,
        },
      ];
    }
    case 'compare': {
      const { spec, runnable } = await compareSpec(args);
      if (args.printScenario) {
        io.stdout.write(`${JSON.stringify(spec, null, 2)}\n`);
        return undefined;
      }
      const definition = comparisonScenario(runnable) as unknown as ScenarioDefinition;
      return [
        {
          definition,
          source: { kind: 'spec', spec: runnable },
          seed: args.seed ?? 1,
          runs: args.runs ?? definition.defaultRuns,
        },
      ];
    }
    default:
      return args.scenarios.map((name) => {
        const definition = scenarios[name];
        return {
          definition,
          source: { kind: 'builtin', name },
          seed: args.seed ?? 1,
          runs: args.runs ?? definition.defaultRuns,
        };
      });
  }
}

async function execute(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv);
  if (args.command === 'help') {
    io.stdout.write(usage);
    return 0;
  }
  if (args.command === 'version') {
    io.stdout.write(`faultline-sim ${version()}\n`);
    return 0;
  }
  const reportFile = args.report === undefined ? undefined : await checkReportPath(args.report);
  const jobs = await jobsOf(args, io);
  if (jobs === undefined) return 0;
  const progress = new ProgressBar(io.stderr, args.progress);
  const sections: Array<{ report: ScenarioReportBase; definition: ScenarioDefinition }> = [];
  const started = performance.now();
  for (const job of jobs) {
    const { definition, seed, runs } = job;
    const plan = definition.plan({ seed, runs });
    progress.start(definition.name, plan.specs.length);
    const onProgress = (done: number, total: number): void => progress.update(done, total);
    const report =
      args.workers > 1
        ? await runOnWorkers(definition, job.source, {
            seed,
            runs,
            workers: args.workers,
            onProgress,
          })
        : await runPlan(plan, { onProgress });
    progress.done();
    sections.push({ report, definition });
    if (!args.json) io.stdout.write(`${formatSection(report, definition)}\n\n`);
  }
  if (args.json) {
    const outputs = sections.map(({ report, definition }) => definition.json?.(report) ?? report);
    const output =
      outputs.length === 1
        ? outputs[0]
        : // Every --json output carries seed and runs; with `all`, runs is per scenario unless --runs.
          { seed: args.seed ?? 1, runs: args.runs ?? null, scenarios: outputs };
    io.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  }
  if (reportFile !== undefined) {
    const command =
      args.command === 'run'
        ? `run ${args.file}`
        : args.command === 'compare'
          ? `compare --latencies ${args.latencies} --policies ${args.policies.join(' ')}`
          : args.scenarios.length === scenarioNames.length
            ? 'all'
            : args.scenarios.join(' ');
    const counts = [...new Set(jobs.map((job) => job.runs))];
    const runs =
      counts.length === 1
        ? `${counts[0]} run${counts[0] === 1 ? '' : 's'} per configuration`
        : "each scenario's default runs";
    const html = renderReport(sections, {
      subtitle: `faultline-sim ${command} --seed ${jobs[0]?.seed ?? 1} (${runs}); simulated on the real faultline policies in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
    });
    await writeFile(reportFile, html);
    io.stderr.write(`report written to ${reportFile}\n`);
  }
  return 0;
}

/**
 * The `faultline-sim` command; returns the exit code. A bad command line or a malformed file is
 * one line on stderr and exit code 2, never a stack trace.
 */
export async function main(argv: readonly string[], io: CliIo = process): Promise<number> {
  try {
    return await execute(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`faultline-sim: ${error.message} (faultline-sim --help for usage)\n`);
      return 2;
    }
    if (error instanceof ScenarioFileError) {
      io.stderr.write(`faultline-sim: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
