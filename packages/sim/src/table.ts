import type { ScenarioReport, Table } from './scenarios/index.js';

const num = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
const ms = (value: number | null | undefined): string =>
  value === null || value === undefined ? 'never' : `${(value / 1000).toFixed(1)} s`;
const pct = (value: number | null | undefined): string =>
  value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)} %`;

/** The summary table of a scenario's report. */
export function tableOf(report: ScenarioReport): Table {
  switch (report.scenario) {
    case 'contention': {
      const strategies = [...new Set(report.results.map((r) => r.strategy))];
      const clients = [...new Set(report.results.map((r) => r.clients))];
      const cell = (c: number, s: string): string => {
        const r = report.results.find((x) => x.clients === c && x.strategy === s);
        return r === undefined ? '—' : `${num(r.calls, 0)} / ${num(r.time, 0)}`;
      };
      return {
        title: 'contention: mean calls / mean completion time (ms)',
        columns: ['clients', ...strategies],
        rows: clients.map((c) => [String(c), ...strategies.map((s) => cell(c, s))]),
      };
    }
    case 'retry-storm':
      return {
        title: `retry-storm: ${report.model.rate} req/s on ${report.model.capacity} req/s capacity, outage ${report.model.outage.start / 1000}–${report.model.outage.end / 1000} s (${report.runs} runs)`,
        columns: [
          'policy',
          'allowance',
          'amplification',
          'server load (req/s) before → outage',
          'time to recover',
          'success',
        ],
        rows: report.results.map((r) => [
          r.name,
          r.allowance === null ? '—' : `1 + ${num(r.allowance, 3)}`,
          num(r.amplification, 3),
          `${num(r.serverLoadBefore, 0)} → ${num(r.serverLoadOutage, 0)}`,
          r.timeToRecover === null
            ? `never (${r.recovered}/${report.runs} runs)`
            : ms(r.timeToRecover),
          pct(r.successRate),
        ]),
      };
    case 'latency-shift':
      return {
        title: `latency-shift: latency ×${report.model.shift.factor} from ${report.model.shift.start / 1000} s to ${report.model.shift.end / 1000} s`,
        columns: [
          'timeout',
          'success before',
          'during',
          'after',
          'amplification during',
          'time to adapt',
          'p99 (ms)',
        ],
        rows: report.results.map((r) => [
          r.name,
          pct(r.successBefore),
          pct(r.successDuring),
          pct(r.successAfter),
          num(r.amplificationDuring, 3),
          ms(r.timeToAdapt),
          num(r.p99, 0),
        ]),
      };
    case 'gray-failure':
      return {
        title: 'gray-failure: one backend of four 20× slower from 10 s',
        columns: [
          'detection',
          'success (whole run)',
          'success while gray',
          'amplification',
          'p99 (ms)',
        ],
        rows: report.results.map((r) => [
          r.strategy,
          pct(r.successRate),
          pct(r.successDuring),
          num(r.amplification, 3),
          num(r.p99During, 0),
        ]),
      };
    case 'partial-failure':
      return {
        title: 'partial-failure: success and load versus 1 − x^n and (1 − x^n)/(1 − x), n = 3',
        columns: [
          'x',
          'policy',
          'success',
          'expected',
          'load (attempts/request)',
          'expected',
          'requests',
        ],
        rows: report.results.map((r) => [
          String(r.x),
          r.policy,
          pct(r.successRate),
          pct(r.expectedSuccessRate),
          num(r.load, 3),
          num(r.expectedLoad, 3),
          String(r.requests),
        ]),
      };
  }
}

/** Renders a table as aligned text. */
export function formatTable(table: Table): string {
  const widths = table.columns.map((c, i) =>
    Math.max(c.length, ...table.rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ');
  return [
    table.title,
    line(table.columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.rows.map(line),
  ].join('\n');
}
