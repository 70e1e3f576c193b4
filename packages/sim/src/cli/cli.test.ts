import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureStreams, runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../report/html.js';
import { runScenario } from '../run.js';
import { scenarioNames } from '../scenarios/index.js';
import { parseArgs, usage } from './args.js';
import { main } from './main.js';

describe('parseArgs', () => {
  it('parses a scenario and every option, in both --flag value and --flag=value forms', () => {
    const args = parseArgs([
      'retry-storm',
      '--seed',
      '7',
      '--runs=2',
      '--json',
      '--report',
      'r.html',
      '--workers=2',
      '--progress',
      'lines',
    ]);
    expect(args).toMatchObject({
      command: 'scenarios',
      scenarios: ['retry-storm'],
      seed: 7,
      runs: 2,
      json: true,
      report: 'r.html',
      workers: 2,
      progress: 'lines',
      help: false,
    });
    expect(parseArgs(['all', '--seed=5']).seed).toBe(5);
    expect(parseArgs(['all']).scenarios).toEqual(scenarioNames);
    expect(parseArgs(['--help']).command).toBe('help');
    expect(parseArgs(['--version']).command).toBe('version');
    expect(parseArgs(['run', 'x.json']).file).toBe('x.json');
    expect(
      parseArgs(['compare', '--latencies', 'l.csv', '--policies', 'a.json', 'b.json', '--rate=50']),
    ).toMatchObject({
      command: 'compare',
      latencies: 'l.csv',
      policies: ['a.json', 'b.json'],
      rate: 50,
    });
  });

  it('accepts every seed the help promises: 0 … 2^32 − 1', () => {
    expect(parseArgs(['all', '--seed', '0']).seed).toBe(0);
    expect(parseArgs(['all', '--seed', String(2 ** 32 - 1)]).seed).toBe(2 ** 32 - 1);
    expect(usage).toContain(`0…${2 ** 32 - 1}`);
  });

  it.each([
    [[]],
    [['nope']],
    [['all', '--seed']],
    [['all', '--seed', '-1']],
    [['all', '--seed', '4294967296']],
    [['all', '--seed=4294967296']],
    [['all', '--seed', '1e3']],
    [['all', '--runs', '0']],
    [['all', '--runs', '1.5']],
    [['all', '--workers', 'x']],
    [['all', '--report']],
    [['all', '--frobnicate']],
    [['all', '--json=yes']],
    [['all', '--progress', 'loud']],
    [['contention', 'retry-storm']],
    [['run']],
    [['run', 'a.json', 'b.json']],
    [['compare', '--policies', 'a.json']],
    [['compare', '--latencies', 'l.csv']],
    [['all', '--rate', '10']],
  ])('rejects %j with one line and exit code 2, no stack trace', async (argv) => {
    const { io, err, out } = captureStreams();
    expect(await main(argv, io)).toBe(2);
    const text = err.join('');
    expect(text).toMatch(/^faultline-sim: [^\n]+\(faultline-sim --help for usage\)\n$/);
    expect(text).not.toMatch(/\bat .*\(.*:\d+:\d+\)/);
    expect(out.join('')).toBe('');
  });
});

describe('faultline-sim options', () => {
  it('--version prints the package version', async () => {
    const { io, out } = captureStreams();
    expect(await main(['--version'], io)).toBe(0);
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(out.join('')).toBe(`faultline-sim ${pkg.version}\n`);
  });

  it('--report to a directory fails before the run, on one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-sim-'));
    const { io, err } = captureStreams(true);
    const started = performance.now();
    expect(await main(['contention', '--report', dir], io)).toBe(2);
    // The full contention sweep takes many seconds: failing in well under one means no run.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.join('')).toMatch(
      /^faultline-sim: --report .* is a directory; give a file name[^\n]*\n$/,
    );
  });

  it('--json carries seed and runs at the top level, for one scenario and for several', async () => {
    const one = captureStreams();
    expect(await main(['partial-failure', '--runs', '1', '--seed', '9', '--json'], one.io)).toBe(0);
    expect(JSON.parse(one.out.join(''))).toMatchObject({
      scenario: 'partial-failure',
      seed: 9,
      runs: 1,
    });
    const meta = captureStreams();
    expect(await main(['metastable', '--runs', '1', '--json'], meta.io)).toBe(0);
    expect(Object.keys(JSON.parse(meta.out.join('')))).toEqual([
      'scenario',
      'seed',
      'runs',
      'results',
    ]);
  }, 60_000);

  it('the progress bar starts at the real count of runs', async () => {
    const tty = captureStreams(true);
    expect(await main(['partial-failure', '--runs', '1'], tty.io)).toBe(0);
    // 6 failure probabilities × 2 policies × 1 run: the first frame already says 0/12.
    expect(tty.err[0]).toMatch(/\] +0% partial-failure 0\/12 runs/);
    expect(tty.err.join('')).not.toMatch(/\d+\/1 runs/);
  });

  it('--progress lines reports in plain lines when stderr is not a terminal', async () => {
    const piped = captureStreams(false);
    expect(await main(['partial-failure', '--runs', '1', '--progress', 'lines'], piped.io)).toBe(0);
    expect(piped.err[0]).toBe('partial-failure: 12 runs…\n');
    expect(piped.err.join('')).toMatch(/partial-failure: done in \d+\.\d s\n$/);
  });
});

describe('faultline-sim', () => {
  it('prints a table, draws a progress bar on a TTY only, writes the HTML report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-sim-'));
    const file = join(dir, 'sub', 'report.html');
    const tty = captureStreams(true);
    expect(await main(['partial-failure', '--runs', '1', '--report', file], tty.io)).toBe(0);
    expect(tty.out.join('')).toMatch(/partial-failure: success and load/);
    expect(tty.err.join('')).toMatch(/\[#+-*\] +\d+% partial-failure/);
    expect(tty.out.join('')).toMatch(/Plain retries matched the theory at every x/);
    const html = await readFile(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    const piped = captureStreams(false);
    expect(await main(['partial-failure', '--runs', '1'], piped.io)).toBe(0);
    expect(piped.err.join('')).toBe('');
  });

  it('the report is self-contained: inline SVG charts with titles, axis labels and legends', async () => {
    const reports = [
      await runScenario('partial-failure', { runs: 1 }),
      await runScenario('latency-shift', { runs: 1 }),
    ];
    const html = renderReport(reports, { subtitle: 'test' });
    expect(html).not.toMatch(/<script|<link|src=|url\(/);
    expect(html.match(/<svg /g)).toHaveLength(4);
    // Every section opens with its measured conclusion, before the model and the charts.
    for (const id of ['partial-failure', 'latency-shift']) {
      const section = html.slice(html.indexOf(`<section id="${id}">`));
      expect(section.indexOf('class="conclusion"')).toBeGreaterThan(0);
      expect(section.indexOf('class="conclusion"')).toBeLessThan(section.indexOf('<svg'));
    }
    for (const label of [
      'failure probability x',
      'attempts per request',
      'time (s)',
      'timeout (ms, log scale)',
    ]) {
      expect(html).toContain(label);
    }
    expect(html).toContain('1 − x³ (theory)');
    expect(html).toContain('<table>');
  });

  // Worker threads load the built worker (built by the Vitest global setup).
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  it('--workers gives the same JSON as one thread', async () => {
    const args = ['gray-failure', '--runs', '2', '--json'];
    const one = await runNode({ file: cli, args });
    const two = await runNode({ file: cli, args: [...args, '--workers', '2'] });
    expect([one.code, one.stderr, two.code, two.stderr]).toEqual([0, '', 0, '']);
    expect(two.stdout).toBe(one.stdout);
    expect(JSON.parse(one.stdout).scenario).toBe('gray-failure');
    // A scenario file too: each worker loads and checks the file again.
    const file = fileURLToPath(
      new URL('../../../../docs/examples/simulator/three-policies.json', import.meta.url),
    );
    const fileArgs = ['run', file, '--runs', '2', '--json'];
    const single = await runNode({ file: cli, args: fileArgs });
    const sharded = await runNode({ file: cli, args: [...fileArgs, '--workers', '2'] });
    expect([single.code, sharded.code]).toEqual([0, 0]);
    expect(sharded.stdout).toBe(single.stdout);
  }, 60_000);
});
