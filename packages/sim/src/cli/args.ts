import { isScenarioName, type ScenarioName, scenarioNames } from '../scenarios/index.js';

/** Parsed command line of `faultline-sim`. */
export interface CliArgs {
  readonly scenarios: readonly ScenarioName[];
  readonly seed: number;
  readonly runs: number | undefined;
  readonly json: boolean;
  readonly report: string | undefined;
  readonly workers: number;
  readonly help: boolean;
}

export const usage = `Usage: faultline-sim <scenario | all> [options]

Scenarios: ${scenarioNames.join(', ')}

Options:
  --seed n          seed of the whole comparison (default 1); same seed, same output
  --runs n          runs per configuration (default: each scenario's own)
  --json            print the results as JSON instead of tables
  --report file     write a self-contained HTML report with charts
  --workers n       simulate on n worker threads (default 1; results are identical)
  -h, --help        show this help
`;

/** Thrown for a bad command line; the CLI prints the message and the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function integer(flag: string, value: string | undefined, min: number): number {
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new UsageError(`${flag} needs an integer ≥ ${min}, received ${value ?? 'nothing'}`);
  }
  const n = Number(value);
  if (n < min || !Number.isSafeInteger(n)) {
    throw new UsageError(`${flag} needs an integer ≥ ${min}, received ${value}`);
  }
  return n;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  let scenario: string | undefined;
  let seed = 1;
  let runs: number | undefined;
  let json = false;
  let report: string | undefined;
  let workers = 1;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--seed':
        seed = integer(arg, argv[++i], 0);
        break;
      case '--runs':
        runs = integer(arg, argv[++i], 1);
        break;
      case '--json':
        json = true;
        break;
      case '--report': {
        const file = argv[++i];
        if (file === undefined || file.startsWith('--'))
          throw new UsageError('--report needs a file name');
        report = file;
        break;
      }
      case '--workers':
        workers = integer(arg, argv[++i], 1);
        break;
      case '-h':
      case '--help':
        help = true;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
        if (scenario !== undefined)
          throw new UsageError(
            `one scenario at a time (or "all"), received ${scenario} and ${arg}`,
          );
        scenario = arg;
    }
  }
  if (help) return { scenarios: [], seed, runs, json, report, workers, help };
  if (scenario === undefined) throw new UsageError('name a scenario or "all"');
  if (scenario !== 'all' && !isScenarioName(scenario)) {
    throw new UsageError(`unknown scenario "${scenario}"`);
  }
  return {
    scenarios: scenario === 'all' ? scenarioNames : [scenario as ScenarioName],
    seed,
    runs,
    json,
    report,
    workers,
    help,
  };
}
