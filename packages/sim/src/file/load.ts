/**
 * Reading scenario files, policy files and observed latencies (Node only: the file system, and a
 * TypeScript loader). Everything a user can get wrong in a file ends in a {@link ScenarioFileError}
 * naming the file and the field, which the CLI prints on one line (exit code 2).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { seededRandom } from '@faultline/core';
import { SimClock } from '../engine.js';
import {
  type ComparisonSpec,
  type DistributionSpec,
  distributionOf,
  type PolicySpec,
  policyOf,
  SpecError,
} from '../scenarios/comparison.js';
import { policySchema, scenarioSchema } from './schema.js';
import { fieldPath, ScenarioFileError, validate } from './validate.js';

/** Reads `file` as UTF-8; a `ScenarioFileError` naming `shown` and `what` when it cannot. */
async function readText(file: string, shown: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScenarioFileError(
      '',
      `${shown}: cannot read the ${what} (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : String(code)})`,
    );
  }
}

/** A file's error: `file: field: message`. */
function inFile(file: string, error: unknown): never {
  if (error instanceof ScenarioFileError || error instanceof SpecError) {
    throw ScenarioFileError.inFile(file, error);
  }
  throw error;
}

/** Column names that say "latency", most telling first. */
const LATENCY_COLUMNS = [/latenc/i, /duration/i, /elapsed/i, /response.?time/i, /(^|_)ms$/i];

/**
 * Reads measured latencies (ms) from a file: a JSON array of numbers (or `{ "latencies": […] }`),
 * or text with one value per line, or a CSV/TSV with a header (the `column` named, else the first
 * whose name looks like a latency, else the first numeric one). `unit` converts `s` or `us` to ms.
 */
export async function readLatencies(
  file: string,
  options: { readonly column?: string; readonly unit?: 'ms' | 's' | 'us' } = {},
): Promise<number[]> {
  const name = basename(file);
  const text = await readText(file, file, 'latencies');
  const scale = options.unit === 's' ? 1000 : options.unit === 'us' ? 0.001 : 1;
  const values: number[] = [];
  const push = (value: unknown, where: string): void => {
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (typeof value === 'string' && String(value).trim() === '') {
      throw new ScenarioFileError('', `${name} ${where}: empty value`);
    }
    if (!Number.isFinite(n) || n < 0) {
      throw new ScenarioFileError(
        '',
        `${name} ${where}: ${JSON.stringify(value)} is not a latency (a number ≥ 0)`,
      );
    }
    values.push(n * scale);
  };
  if (extname(file).toLowerCase() === '.json') {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new ScenarioFileError('', `${name}: not valid JSON (${(error as Error).message})`);
    }
    const list = Array.isArray(data) ? data : (data as { latencies?: unknown })?.latencies;
    if (!Array.isArray(list)) {
      throw new ScenarioFileError(
        '',
        `${name}: expected an array of numbers or { "latencies": [...] }`,
      );
    }
    list.forEach((v, i) => {
      push(v, `item ${i}`);
    });
  } else {
    const lines = text.split(/\r?\n/);
    const rows = lines
      .map((line, i) => ({ line, number: i + 1 }))
      .filter(({ line }) => line.trim() !== '' && !line.trimStart().startsWith('#'));
    if (rows.length === 0) throw new ScenarioFileError('', `${name}: no latencies in the file`);
    const delimiter = [',', '\t', ';'].find((d) => rows[0]!.line.includes(d));
    const cells = (line: string): string[] =>
      (delimiter === undefined ? [line] : line.split(delimiter)).map((c) =>
        c.trim().replace(/^"(.*)"$/, '$1'),
      );
    const first = cells(rows[0]!.line);
    const header = first.some((c) => c !== '' && !Number.isFinite(Number(c)));
    let column = 0;
    if (header) {
      if (options.column !== undefined) {
        column = first.indexOf(options.column);
        if (column < 0) {
          throw new ScenarioFileError(
            '',
            `${name}: no column "${options.column}" (columns: ${first.join(', ')})`,
          );
        }
      } else {
        const numeric = (i: number): boolean =>
          rows.length > 1 && Number.isFinite(Number(cells(rows[1]!.line)[i]));
        let named = -1;
        for (const pattern of LATENCY_COLUMNS) {
          named = first.findIndex((c, i) => pattern.test(c) && numeric(i));
          if (named >= 0) break;
        }
        column = named >= 0 ? named : first.findIndex((_, i) => numeric(i));
        if (column < 0) {
          throw new ScenarioFileError(
            '',
            `${name}: no numeric column (columns: ${first.join(', ')})`,
          );
        }
      }
    } else if (options.column !== undefined) {
      throw new ScenarioFileError('', `${name}: "column" needs a header row in the file`);
    }
    for (const { line, number } of header ? rows.slice(1) : rows) {
      push(cells(line)[column] ?? '', `line ${number}`);
    }
  }
  if (values.length === 0) throw new ScenarioFileError('', `${name}: no latencies in the file`);
  return values;
}

/** Replaces every `observed` distribution by the `empirical` one of its file's values. */
async function readObserved(
  spec: DistributionSpec | undefined,
  field: string,
  base: string,
): Promise<DistributionSpec | undefined> {
  if (spec === undefined || typeof spec === 'number') return spec;
  if (spec.kind === 'observed') {
    const file = resolve(base, spec.file);
    try {
      const values = await readLatencies(file, {
        ...(spec.column === undefined ? {} : { column: spec.column }),
        ...(spec.unit === undefined ? {} : { unit: spec.unit }),
      });
      return { kind: 'empirical', values, source: basename(file) };
    } catch (error) {
      if (error instanceof ScenarioFileError) {
        throw new ScenarioFileError(fieldPath(field, 'file'), error.message);
      }
      throw error;
    }
  }
  if (spec.kind === 'bimodal') {
    return {
      ...spec,
      fast: (await readObserved(spec.fast, `${field}.fast`, base))!,
      slow: (await readObserved(spec.slow, `${field}.slow`, base))!,
    };
  }
  return spec;
}

/**
 * Builds every model and declarative policy once, so that a value the schema cannot judge
 * (`uniform` with max < min, a backoff's `max` below its `initial`) fails now, naming the field,
 * instead of in the middle of a run.
 */
function dryBuild(spec: ComparisonSpec): void {
  distributionOf(spec.downstream.latency, 'downstream.latency');
  if (spec.network?.latency !== undefined) distributionOf(spec.network.latency, 'network.latency');
  if (spec.traffic.kind === 'closed' && spec.traffic.think !== undefined) {
    distributionOf(spec.traffic.think, 'traffic.think');
  }
  const traffic = spec.traffic;
  if (traffic.kind === 'open' && typeof traffic.rate !== 'number') {
    const steps = traffic.rate;
    steps.forEach((step, i) => {
      const previous = steps[i - 1];
      if (previous !== undefined && step.at <= previous.at) {
        throw new SpecError(
          `traffic.rate[${i}].at`,
          `must be later than the step before it (${previous.at}), received ${step.at}`,
        );
      }
    });
  }
  const env = { clock: new SimClock(), random: seededRandom(1) };
  for (const [name, policy] of Object.entries(spec.policies)) {
    if (typeof policy !== 'function') policyOf(policy, env, fieldPath('policies', name));
  }
}

/** The module's scenario: its default export (unwrapping a CommonJS `module.exports`). */
function exported(module: Record<string, unknown>): unknown {
  let value = module.default ?? module.scenario;
  if (
    value !== null &&
    typeof value === 'object' &&
    !('duration' in value) &&
    'default' in (value as Record<string, unknown>)
  ) {
    value = (value as Record<string, unknown>).default;
  }
  return value;
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const ext = extname(file).toLowerCase();
  if (ext === '.ts' || ext === '.mts' || ext === '.cts') {
    // Node 22.18+ strips types itself; Node 20 needs a loader: tsx's scoped `tsImport` (esbuild),
    // which loads this one file and its imports without registering a global hook.
    const native = (process.features as { typescript?: string }).typescript;
    if (native !== undefined && native !== 'false') return import(pathToFileURL(file).href);
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(pathToFileURL(file).href, import.meta.url) as Promise<Record<string, unknown>>;
  }
  return import(pathToFileURL(file).href);
}

/**
 * Reads and checks a scenario file (`.json`, `.js`/`.mjs`/`.cjs`, `.ts`/`.mts`/`.cts`) and returns
 * its spec with observed latencies read in. JS/TS files export the spec as their default export;
 * their policies may be functions `({ clock, random }) => Policy`.
 */
export async function loadScenarioFile(path: string): Promise<ComparisonSpec> {
  const file = resolve(path);
  const shown = path;
  const ext = extname(file).toLowerCase();
  let raw: unknown;
  if (ext === '.json') {
    const text = await readText(file, shown, 'scenario');
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ScenarioFileError('', `${shown}: not valid JSON (${(error as Error).message})`);
    }
  } else if (['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'].includes(ext)) {
    let module: Record<string, unknown>;
    try {
      module = await importModule(file);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(file)) {
        throw new ScenarioFileError('', `${shown}: no such file`);
      }
      // The user's own code threw or does not compile: their error, on one line.
      throw new ScenarioFileError(
        '',
        `${shown}: could not load it: ${String(e.message).split('\n')[0]}`,
      );
    }
    raw = exported(module);
    if (raw === undefined) {
      throw new ScenarioFileError('', `${shown}: export the scenario as the default export`);
    }
  } else {
    throw new ScenarioFileError(
      '',
      `${shown}: a scenario file is .json, .js, .mjs, .cjs, .ts, .mts or .cts (received "${ext || 'no extension'}")`,
    );
  }
  try {
    validate(raw, scenarioSchema, {
      // Code may give a policy as a function of the run's clock and random.
      allow: (value, field) =>
        typeof value === 'function' && /^policies(\.[\w$]+|\[".*"\])$/.test(field),
    });
    const spec = raw as ComparisonSpec;
    const base = dirname(file);
    const read: ComparisonSpec = {
      ...spec,
      name: spec.name ?? basename(file, extname(file)),
      downstream: {
        ...spec.downstream,
        latency: (await readObserved(spec.downstream.latency, 'downstream.latency', base))!,
      },
      ...(spec.network === undefined
        ? {}
        : {
            network: {
              ...spec.network,
              ...(spec.network.latency === undefined
                ? {}
                : {
                    latency: (await readObserved(spec.network.latency, 'network.latency', base))!,
                  }),
            },
          }),
      ...(spec.traffic.kind === 'closed' && spec.traffic.think !== undefined
        ? {
            traffic: {
              ...spec.traffic,
              think: (await readObserved(spec.traffic.think, 'traffic.think', base))!,
            },
          }
        : {}),
    };
    dryBuild(read);
    return read;
  } catch (error) {
    return inFile(shown, error);
  }
}

/** A policy file for `compare`: `{ "name"?: …, "policy": {…} }`. */
export async function loadPolicyFile(path: string): Promise<{ name: string; policy: PolicySpec }> {
  const file = resolve(path);
  const text = await readText(file, path, 'policy');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ScenarioFileError('', `${path}: not valid JSON (${(error as Error).message})`);
  }
  try {
    validate(raw, policySchema);
    const spec = raw as { name?: string; policy: PolicySpec };
    policyOf(spec.policy, { clock: new SimClock(), random: seededRandom(1) }, 'policy');
    return { name: spec.name ?? basename(file, extname(file)), policy: spec.policy };
  } catch (error) {
    return inFile(path, error);
  }
}
