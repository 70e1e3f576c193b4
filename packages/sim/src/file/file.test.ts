import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureStreams } from '@faultline/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { readLatencies } from './load.js';
import { policySchema, scenarioSchema } from './schema.js';
import { ScenarioFileError, validate } from './validate.js';

/** A small valid scenario (short and light, so that tests that run it stay fast). */
const valid = () => ({
  duration: 5_000,
  runs: 1,
  traffic: { kind: 'open', rate: 50 },
  downstream: { latency: { kind: 'lognormal', median: 20, sigma: 0.3 }, concurrency: 4 },
  policies: {
    'no-retry': { timeout: 500 },
    'retry-3': { retry: { maxAttempts: 3, backoff: { kind: 'constant', ms: 10 } }, timeout: 500 },
  },
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-sim-files-'));
});

async function runFile(
  name: string,
  content: unknown,
): Promise<{ code: number; out: string; err: string }> {
  const file = join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  const { io, out, err } = captureStreams();
  const code = await main(['run', file], io);
  return { code, out: out.join(''), err: err.join('') };
}

const oneLine = /^faultline-sim: [^\n]+\n$/;

/** Runs a malformed scenario file, which must exit with code 2 and one line on stderr. */
async function rejected(name: string, content: unknown): ReturnType<typeof runFile> {
  const result = await runFile(name, content);
  expect(result.code).toBe(2);
  expect(result.err).toMatch(oneLine);
  return result;
}

describe('malformed scenario files: one line naming the field, exit code 2', () => {
  it('a field of the wrong type', async () => {
    const spec = valid();
    (spec.traffic as Record<string, unknown>).rate = 'fast';
    const { err, out } = await rejected('wrong-type.json', spec);
    expect(err).toBe(
      `faultline-sim: ${join(dir, 'wrong-type.json')}: traffic.rate: must be a number or an array, received "fast"\n`,
    );
    expect(out).toBe('');
  });

  it('an unknown field (a typo gets a suggestion)', async () => {
    const spec = valid();
    (spec.policies as Record<string, unknown>)['retry-3'] = { retry: { maxAttempt: 3 } };
    const { err } = await rejected('unknown-field.json', spec);
    expect(err).toContain(
      'policies["retry-3"].retry.maxAttempt: unknown field "maxAttempt" (did you mean "maxAttempts"?)',
    );
  });

  it('an unknown field at the top level', async () => {
    const { err } = await rejected('unknown-top.json', { ...valid(), durration: 1 });
    expect(err).toContain('durration: unknown field "durration" (did you mean "duration"?)');
  });

  it('a distribution of an unknown kind', async () => {
    const spec = valid();
    (spec.downstream as Record<string, unknown>).latency = { kind: 'gamma', shape: 2 };
    const { err } = await rejected('bad-kind.json', spec);
    expect(err).toContain(
      'downstream.latency.kind: unknown kind "gamma" (expected one of constant, uniform, normal, exponential, lognormal, bimodal, empirical, observed)',
    );
  });

  it('a distribution missing a parameter, or with parameters no distribution has', async () => {
    const spec = valid();
    (spec.downstream as Record<string, unknown>).latency = { kind: 'lognormal', median: 20 };
    let result = await runFile('bad-params.json', spec);
    expect(result.code).toBe(2);
    expect(result.err).toContain('downstream.latency: missing field "sigma"');
    (spec.downstream as Record<string, unknown>).latency = { kind: 'uniform', min: 50, max: 10 };
    result = await rejected('bad-range.json', spec);
    expect(result.err).toMatch(/downstream\.latency: uniform: argument "max" must be/);
  });

  it('a value out of range, a bad policy combination, a missing field', async () => {
    const spec = valid();
    (spec.policies as Record<string, unknown>)['retry-3'] = { retry: { maxAttempts: 0 } };
    let result = await runFile('range.json', spec);
    expect(result.err).toContain('policies["retry-3"].retry.maxAttempts: must be ≥ 1, received 0');
    (spec.policies as Record<string, unknown>)['retry-3'] = {
      retry: { backoff: { kind: 'exponential', initial: 500, max: 100 } },
    };
    result = await rejected('factory.json', spec);
    expect(result.err).toMatch(/policies\["retry-3"\]\.retry\.backoff: exponential: option "max"/);
    const { traffic: _, ...noTraffic } = valid();
    result = await runFile('missing.json', noTraffic);
    expect(result.err).toContain(': missing field "traffic"');
  });

  it('not JSON, no such file, a latency file with a bad value, an unknown extension', async () => {
    let result = await runFile('broken.json', '{ "duration": 5000, }');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/broken\.json: not valid JSON \(/);
    expect(result.err).toMatch(oneLine);
    const { io, err } = captureStreams();
    expect(await main(['run', join(dir, 'absent.json')], io)).toBe(2);
    expect(err.join('')).toMatch(/absent\.json: cannot read the scenario \(no such file\)\n$/);
    await writeFile(join(dir, 'bad.csv'), 'latency_ms\n12\nabc\n');
    const spec = valid();
    (spec.downstream as Record<string, unknown>).latency = { kind: 'observed', file: 'bad.csv' };
    result = await rejected('bad-csv.json', spec);
    expect(result.err).toContain('downstream.latency.file: ');
    expect(result.err).toContain('bad.csv line 3: "abc" is not a latency');
    result = await runFile('scenario.yaml', 'duration: 5');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/a scenario file is \.json, \.js/);
  });

  it('a JS scenario that throws, or exports nothing: one line, exit code 2', async () => {
    let result = await runFile('throws.mjs', 'throw new Error("boom at load");');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(oneLine);
    expect(result.err).toContain('could not load it: boom at load');
    result = await runFile('nothing.mjs', 'export const x = 1;');
    expect(result.err).toContain('export the scenario as the default export');
  });
});

describe('scenario files that run', () => {
  it('JSON: a table with the measured verdict', async () => {
    const { code, out, err } = await runFile('ok.json', valid());
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^ok: open loop, 50 requests\/s/);
    expect(out).toContain('no-retry');
    expect(out).toMatch(/Goodput: /);
  });

  it('JS: a policy written as code next to a declarative one', async () => {
    // A hand-written Policy (anything with execute) stands for the user's own code.
    const source = `
      export default {
        duration: 5000,
        runs: 1,
        traffic: { kind: 'closed', clients: 20, think: { kind: 'exponential', mean: 50 } },
        downstream: { latency: 20, concurrency: 4 },
        policies: {
          declarative: { timeout: 500 },
          'as code': () => ({ execute: (fn) => fn({ signal: new AbortController().signal, attempt: 1 }) }),
        },
      };`;
    const { code, out, err } = await runFile('code.mjs', source);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('as code');
  });

  it('a closed loop of 10 000 clients', async () => {
    const { code, out, err } = await runFile('ten-thousand.json', {
      duration: 3_000,
      runs: 1,
      traffic: { kind: 'closed', clients: 10_000, think: { kind: 'exponential', mean: 1_000 } },
      downstream: {
        latency: { kind: 'exponential', mean: 20 },
        concurrency: 250,
        queueLimit: 10_000,
      },
      policies: {
        'retry-3': {
          retry: { maxAttempts: 3, backoff: { kind: 'constant', ms: 10 } },
          timeout: 1_000,
        },
      },
    });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/closed loop, 10000 clients/);
    // About 10 000 requests a second (each client thinks 1 s on average), all served.
    const row = out.split('\n').find((line) => line.startsWith('retry-3 '))!;
    const goodput = Number(row.trim().split(/\s+/)[3]);
    expect(goodput).toBeGreaterThan(5_000);
  }, 60_000);

  it('TypeScript through the loader', async () => {
    const source = `
      interface Spec { duration: number }
      const duration: Spec['duration'] = 5000;
      export default {
        duration,
        runs: 1,
        traffic: { kind: 'open' as const, rate: 20 },
        downstream: { latency: { kind: 'constant' as const, value: 10 } },
        policies: { bare: {} },
      };`;
    const { code, out, err } = await runFile('typed.ts', source);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^typed: /);
  });
});

describe('validate', () => {
  it('refuses a schema keyword it does not implement (the schema cannot outgrow the check)', () => {
    expect(() => validate(1, { type: 'number', multipleOf: 2 })).toThrow(/multipleOf/);
  });

  it('names nested array fields', () => {
    expect(() =>
      validate(
        {
          ...valid(),
          downstream: {
            ...valid().downstream,
            incidents: [{ kind: 'outage', start: -1, duration: 1 }],
          },
        },
        scenarioSchema,
      ),
    ).toThrow(new ScenarioFileError('downstream.incidents[0].start', 'must be ≥ 0, received -1'));
  });

  it('the published schema files are the schema the CLI checks with', async () => {
    const root = new URL('../../', import.meta.url);
    expect(JSON.parse(await readFile(new URL('scenario.schema.json', root), 'utf8'))).toEqual(
      scenarioSchema,
    );
    expect(JSON.parse(await readFile(new URL('policy.schema.json', root), 'utf8'))).toEqual(
      policySchema,
    );
  });
});

describe('readLatencies', () => {
  it('reads a CSV column by header, plain lines, JSON, and converts units', async () => {
    await mkdir(dir, { recursive: true });
    const csv = join(dir, 'l.csv');
    await writeFile(csv, 'time,route,latency_ms\n1,a,10.5\n2,b,20\n# a comment\n\n3,c,30\n');
    expect(await readLatencies(csv)).toEqual([10.5, 20, 30]);
    expect(await readLatencies(csv, { column: 'time' })).toEqual([1, 2, 3]);
    await expect(readLatencies(csv, { column: 'nope' })).rejects.toThrow(
      /no column "nope" \(columns: time, route, latency_ms\)/,
    );
    const plain = join(dir, 'l.txt');
    await writeFile(plain, '0.5\n1.5\n');
    expect(await readLatencies(plain, { unit: 's' })).toEqual([500, 1500]);
    const json = join(dir, 'l.json');
    await writeFile(json, JSON.stringify({ latencies: [1, 2] }));
    expect(await readLatencies(json)).toEqual([1, 2]);
    await writeFile(json, '[1, -2]');
    await expect(readLatencies(json)).rejects.toThrow(/item 1: -2 is not a latency/);
  });
});
