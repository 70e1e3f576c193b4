import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../report/html.js';
import { runScenario } from '../run.js';
import { parseArgs } from './args.js';
import { main } from './main.js';

function streams(tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const make = (sink: string[]) =>
    ({
      write: (chunk: string) => {
        sink.push(chunk);
        return true;
      },
      isTTY: tty,
    }) as unknown as NodeJS.WriteStream;
  return { io: { stdout: make(out), stderr: make(err) }, out, err };
}

describe('parseArgs', () => {
  it('parses a scenario and every option', () => {
    expect(
      parseArgs([
        'retry-storm',
        '--seed',
        '7',
        '--runs',
        '2',
        '--json',
        '--report',
        'r.html',
        '--workers',
        '2',
      ]),
    ).toEqual({
      scenarios: ['retry-storm'],
      seed: 7,
      runs: 2,
      json: true,
      report: 'r.html',
      workers: 2,
      help: false,
    });
    expect(parseArgs(['all']).scenarios).toHaveLength(5);
    expect(parseArgs(['--help']).help).toBe(true);
  });

  it.each([
    [[]],
    [['nope']],
    [['all', '--seed']],
    [['all', '--seed', '-1']],
    [['all', '--runs', '0']],
    [['all', '--runs', '1.5']],
    [['all', '--workers', 'x']],
    [['all', '--report']],
    [['all', '--frobnicate']],
    [['contention', 'retry-storm']],
  ])('rejects %j with a usage error (exit code 2)', async (argv) => {
    const { io, err } = streams();
    expect(await main(argv, io)).toBe(2);
    expect(err.join('')).toMatch(/^faultline-sim: .*\n\nUsage: faultline-sim/s);
  });
});

describe('faultline-sim', () => {
  it('prints a table, draws a progress bar on a TTY only, writes the HTML report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-sim-'));
    const file = join(dir, 'sub', 'report.html');
    const tty = streams(true);
    expect(await main(['partial-failure', '--runs', '1', '--report', file], tty.io)).toBe(0);
    expect(tty.out.join('')).toMatch(/partial-failure: success and load/);
    expect(tty.err.join('')).toMatch(/\[#+-*\] +\d+% partial-failure/);
    const html = await readFile(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    const piped = streams(false);
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
  }, 60_000);
});
