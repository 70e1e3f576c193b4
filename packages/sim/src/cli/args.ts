import { isScenarioName, type ScenarioName, scenarioNames } from '../scenarios/index.js';

/** How progress is shown on stderr. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

/** Parsed command line of `faultline-sim`. */
export interface CliArgs {
  /** `scenarios`: built-in scenarios; `run`: a scenario file; `compare`: latencies + policies. */
  readonly command: 'scenarios' | 'run' | 'compare' | 'help' | 'version';
  readonly scenarios: readonly ScenarioName[];
  /** `run`: the scenario file. */
  readonly file: string | undefined;
  /** `compare`: the observed latencies and the policy files. */
  readonly latencies: string | undefined;
  readonly policies: readonly string[];
  readonly rate: number | undefined;
  readonly duration: number | undefined;
  /** `compare`: the outage, seconds from–to, or `null` for none. */
  readonly outage: { readonly from: number; readonly to: number } | null | undefined;
  readonly column: string | undefined;
  readonly failureRate: number | undefined;
  readonly printScenario: boolean;
  /** `undefined`: the scenario file's own seed, else 1. */
  readonly seed: number | undefined;
  readonly runs: number | undefined;
  readonly json: boolean;
  readonly report: string | undefined;
  readonly workers: number;
  readonly progress: ProgressMode;
  readonly help: boolean;
}

/** Largest seed: seeds are 32-bit (every run's seed is derived from it by 32-bit hashing). */
export const MAX_SEED = 2 ** 32 - 1;

export const usage = `Usage:
  faultline-sim <scenario | all> [options]          built-in scenarios
  faultline-sim run <scenario-file> [options]       your scenario (.json, .js, .mjs, .ts)
  faultline-sim compare --latencies <file> --policies <a.json> [<b.json> …] [options]

Scenarios: ${scenarioNames.join(', ')}

Options:
  --seed n            seed of the whole comparison, an integer 0…${MAX_SEED}
                      (default: the scenario file's, else 1); same seed, same output
  --runs n            runs per configuration (default: each scenario's own)
  --json              print the results as JSON instead of tables
  --report file       write a self-contained HTML report with charts
  --workers n         simulate on n worker threads (default 1; results are identical)
  --progress mode     auto (a bar on a terminal, else nothing), bar, lines, none
  --version           print the version
  -h, --help          show this help
Options of compare:
  --latencies file    observed latencies, ms: a CSV (a header names the column) or JSON array
  --column name       the CSV column to read (default: the one named like a latency)
  --policies files…   policy files ({ "policy": { "retry": {…}, "timeout": 1000 } })
  --rate n            requests per second (default 100)
  --duration s        seconds simulated per run (default 60)
  --outage a-b        an outage answering 503 from a to b seconds (default 20-30), or none
  --failure-rate x    each request also fails with probability x (default 0)
  --print-scenario    print the equivalent scenario file instead of running it
Values may also be written --seed=5. Exit codes: 0 done, 2 bad command line or bad file.
`;

/** Thrown for a bad command line or a bad file; the CLI prints one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function integer(flag: string, value: string | undefined, min: number, max: number): number {
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new UsageError(`${flag} needs an integer ${range}, received ${value ?? 'nothing'}`);
  }
  const n = Number(value);
  if (n < min || n > max || !Number.isSafeInteger(n)) {
    throw new UsageError(`${flag} needs an integer ${range}, received ${value}`);
  }
  return n;
}

function positive(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} needs a number > 0, received ${value ?? 'nothing'}`);
  }
  return n;
}

const VALUED = new Set([
  '--seed',
  '--runs',
  '--report',
  '--workers',
  '--progress',
  '--latencies',
  '--column',
  '--rate',
  '--duration',
  '--outage',
  '--failure-rate',
]);

export function parseArgs(argv: readonly string[]): CliArgs {
  const positional: string[] = [];
  let seed: number | undefined;
  let runs: number | undefined;
  let json = false;
  let report: string | undefined;
  let workers = 1;
  let progress: ProgressMode = 'auto';
  let help = false;
  let version = false;
  let latencies: string | undefined;
  let column: string | undefined;
  let rate: number | undefined;
  let duration: number | undefined;
  let outage: CliArgs['outage'];
  let printScenario = false;
  let failureRate: number | undefined;
  const policies: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 2) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
      if (!VALUED.has(arg)) throw new UsageError(`${arg} takes no value`);
    }
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) return undefined;
      i++;
      return next;
    };
    switch (arg) {
      case '--seed':
        seed = integer(arg, value(), 0, MAX_SEED);
        break;
      case '--runs':
        runs = integer(arg, value(), 1, Number.MAX_SAFE_INTEGER);
        break;
      case '--workers':
        workers = integer(arg, value(), 1, 256);
        break;
      case '--json':
        json = true;
        break;
      case '--report': {
        const file = value();
        if (file === undefined || file === '') throw new UsageError('--report needs a file name');
        report = file;
        break;
      }
      case '--progress': {
        const mode = value();
        if (mode !== 'auto' && mode !== 'bar' && mode !== 'lines' && mode !== 'none') {
          throw new UsageError(
            `--progress needs auto, bar, lines or none, received ${mode ?? 'nothing'}`,
          );
        }
        progress = mode;
        break;
      }
      case '--latencies':
        latencies = value();
        if (latencies === undefined) throw new UsageError('--latencies needs a file');
        break;
      case '--column':
        column = value();
        if (column === undefined) throw new UsageError('--column needs a column name');
        break;
      case '--policies': {
        if (inline !== undefined) throw new UsageError('--policies takes files after it, not =');
        while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) policies.push(argv[++i]!);
        if (policies.length === 0)
          throw new UsageError('--policies needs at least one policy file');
        break;
      }
      case '--rate':
        rate = positive(arg, value());
        break;
      case '--duration':
        duration = positive(arg, value());
        break;
      case '--outage': {
        const text = value();
        if (text === 'none') {
          outage = null;
          break;
        }
        const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text ?? '');
        if (match === null || Number(match[2]) <= Number(match[1])) {
          throw new UsageError(
            `--outage needs from-to in seconds (e.g. 20-30) or none, received ${text ?? 'nothing'}`,
          );
        }
        outage = { from: Number(match[1]), to: Number(match[2]) };
        break;
      }
      case '--failure-rate': {
        const text = value();
        const x = Number(text);
        if (text === undefined || text.trim() === '' || !(x >= 0 && x <= 1)) {
          throw new UsageError(
            `--failure-rate needs a probability from 0 to 1, received ${text ?? 'nothing'}`,
          );
        }
        failureRate = x;
        break;
      }
      case '--print-scenario':
        printScenario = true;
        break;
      case '--version':
        version = true;
        break;
      case '-h':
      case '--help':
        help = true;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  const base = {
    scenarios: [] as ScenarioName[],
    file: undefined,
    latencies,
    policies,
    rate,
    duration,
    outage,
    column,
    failureRate,
    printScenario,
    seed,
    runs,
    json,
    report,
    workers,
    progress,
    help,
  };
  if (help) return { ...base, command: 'help' };
  if (version) return { ...base, command: 'version' };
  const [first, ...rest] = positional;
  if (first === undefined)
    throw new UsageError('name a scenario, "all", "run <file>" or "compare"');
  const compareOnly = (): void => {
    const given = [
      latencies !== undefined && '--latencies',
      column !== undefined && '--column',
      policies.length > 0 && '--policies',
      rate !== undefined && '--rate',
      duration !== undefined && '--duration',
      outage !== undefined && '--outage',
      failureRate !== undefined && '--failure-rate',
      printScenario && '--print-scenario',
    ].filter(Boolean);
    if (given.length > 0) throw new UsageError(`${given[0]} is an option of compare`);
  };
  if (first === 'run') {
    compareOnly();
    if (rest.length !== 1) {
      throw new UsageError(
        rest.length === 0
          ? 'run needs a scenario file'
          : `run takes one scenario file, received ${rest.join(' ')}`,
      );
    }
    return { ...base, command: 'run', file: rest[0] };
  }
  if (first === 'compare') {
    if (rest.length > 0) throw new UsageError(`compare takes no file without a flag: ${rest[0]}`);
    if (latencies === undefined) throw new UsageError('compare needs --latencies <file>');
    if (policies.length === 0) throw new UsageError('compare needs --policies <file> …');
    return { ...base, command: 'compare' };
  }
  compareOnly();
  if (rest.length > 0) {
    throw new UsageError(`one scenario at a time (or "all"), received ${first} and ${rest[0]}`);
  }
  if (first !== 'all' && !isScenarioName(first)) {
    throw new UsageError(
      `unknown scenario "${first}" (scenarios: ${scenarioNames.join(', ')}; or run <file>, compare)`,
    );
  }
  return {
    ...base,
    command: 'scenarios',
    scenarios: first === 'all' ? [...scenarioNames] : [first as ScenarioName],
  };
}
