import type { ScenarioReport, Table } from '../scenarios/index.js';
import { scenarios } from '../scenarios/index.js';
import { tableOf } from '../table.js';
import { barChart, escapeXml, lineChart, type Series } from './svg.js';

const seconds = (t: number): number => t / 1000;

function chartsOf(report: ScenarioReport): string[] {
  switch (report.scenario) {
    case 'contention': {
      const strategies = [...new Set(report.results.map((r) => r.strategy))];
      const series = (key: 'calls' | 'time'): Series[] =>
        strategies.map((strategy) => ({
          name: strategy,
          points: report.results
            .filter((r) => r.strategy === strategy)
            .map((r) => [r.clients, r[key]] as const),
        }));
      return [
        lineChart({
          title: 'Work: mean conditional writes per run',
          xLabel: 'clients',
          yLabel: 'calls (writes)',
          series: series('calls'),
        }),
        lineChart({
          title: 'Completion time: last write reply',
          xLabel: 'clients',
          yLabel: 'time (ms, log scale)',
          series: series('time'),
          logY: true,
        }),
      ];
    }
    case 'retry-storm': {
      const band = {
        from: seconds(report.model.outage.start),
        to: seconds(report.model.outage.end),
        label: 'outage (503s)',
      };
      const over = (key: 'serverLoad' | 'goodput'): Series[] =>
        report.results.map((r) => ({
          name: r.name,
          points: r.buckets.map((b) => [seconds(b.t), b[key]] as const),
        }));
      return [
        lineChart({
          title: 'Server load: attempts the server receives',
          xLabel: 'time (s)',
          yLabel: 'requests/s',
          series: over('serverLoad'),
          band,
          height: 400,
        }),
        lineChart({
          title: 'Goodput: successful requests',
          xLabel: 'time (s)',
          yLabel: 'requests/s',
          series: over('goodput'),
          band,
          height: 400,
        }),
        barChart({
          title: 'Amplification during the outage (attempts per request)',
          yLabel: 'attempts / request',
          bars: report.results.map((r) => ({ label: r.name, value: r.amplification })),
          reference: { value: 1, label: 'no retries = 1' },
        }),
        barChart({
          title: 'Time to recover after the outage',
          yLabel: 'seconds',
          bars: report.results.map((r) => ({
            label: r.name,
            value: r.timeToRecover === null ? null : r.timeToRecover / 1000,
            note:
              r.timeToRecover === null
                ? 'not within run'
                : `${(r.timeToRecover / 1000).toFixed(1)} s`,
          })),
        }),
      ];
    }
    case 'latency-shift': {
      const band = {
        from: seconds(report.model.shift.start),
        to: seconds(report.model.shift.end),
        label: `latency ×${report.model.shift.factor}`,
      };
      return [
        lineChart({
          title: 'Goodput through the latency shift',
          xLabel: 'time (s)',
          yLabel: 'successful requests/s',
          series: report.results.map((r) => ({
            name: r.name,
            points: r.buckets.map((b) => [seconds(b.t), b.goodput] as const),
          })),
          band,
        }),
        lineChart({
          title: 'Timeout in force',
          xLabel: 'time (s)',
          yLabel: 'timeout (ms, log scale)',
          logY: true,
          series: report.results.map((r) => ({
            name: r.name,
            points: r.buckets.map((b) => [seconds(b.t) + 0.5, b.timeout] as const),
          })),
          band,
        }),
      ];
    }
    case 'gray-failure':
      return [
        lineChart({
          title: 'Goodput while one backend is slow',
          xLabel: 'time (s)',
          yLabel: 'successful requests/s',
          series: report.results.map((r) => ({
            name: r.strategy,
            points: r.buckets.map((b) => [seconds(b.t), b.goodput] as const),
          })),
          band: {
            from: 10,
            to: seconds((report.results[0]?.buckets.length ?? 30) * 1000),
            label: 'backend 0 slow',
          },
        }),
        barChart({
          title: 'Success rate while the backend is slow',
          yLabel: 'success (%)',
          bars: report.results.map((r) => ({
            label: r.strategy,
            value: r.successDuring === null ? null : r.successDuring * 100,
            note: r.successDuring === null ? 'n/a' : `${(r.successDuring * 100).toFixed(1)} %`,
          })),
        }),
      ];
    case 'partial-failure': {
      const policies = [...new Set(report.results.map((r) => r.policy))];
      const measured = (key: 'successRate' | 'load'): Series[] =>
        policies.map((policy) => ({
          name: `${policy} (measured)`,
          points: report.results
            .filter((r) => r.policy === policy)
            .map((r) => [r.x, r[key]] as const),
        }));
      const first = report.results.filter((r) => r.policy === policies[0]);
      return [
        lineChart({
          title: 'Success rate versus failure probability',
          xLabel: 'failure probability x',
          yLabel: 'share of requests that succeed',
          series: [
            ...measured('successRate'),
            {
              name: '1 − x³ (theory)',
              dashed: true,
              points: first.map((r) => [r.x, r.expectedSuccessRate] as const),
            },
          ],
        }),
        lineChart({
          title: 'Load versus failure probability',
          xLabel: 'failure probability x',
          yLabel: 'attempts per request',
          series: [
            ...measured('load'),
            {
              name: '(1 − x³)/(1 − x) (theory)',
              dashed: true,
              points: first.map((r) => [r.x, r.expectedLoad] as const),
            },
          ],
        }),
      ];
    }
  }
}

function htmlTable(table: Table): string {
  const head = table.columns.map((c) => `<th>${escapeXml(c)}</th>`).join('');
  const rows = table.rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeXml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><caption>${escapeXml(table.title)}</caption><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** Options for {@link renderReport}. */
export interface ReportOptions {
  readonly title?: string;
  /** Shown in the header, e.g. the command line and seed. */
  readonly subtitle?: string;
}

/**
 * A self-contained HTML page (inline CSS and SVG, no scripts, no network) with a section per
 * scenario: description, charts and the summary table. Opens in any browser from a file.
 */
export function renderReport(
  reports: readonly ScenarioReport[],
  options: ReportOptions = {},
): string {
  const title = options.title ?? 'faultline: retry policies under failure';
  const sections = reports
    .map((report) => {
      const definition = scenarios[report.scenario];
      const charts = chartsOf(report)
        .map((svg) => `<figure>${svg}</figure>`)
        .join('\n');
      return `<section id="${report.scenario}">
<h2>${escapeXml(definition.title)}</h2>
<p>${escapeXml(definition.description)}</p>
<div class="charts">${charts}</div>
${htmlTable(tableOf(report))}
</section>`;
    })
    .join('\n');
  const nav = reports
    .map((r) => `<a href="#${r.scenario}">${escapeXml(r.scenario)}</a>`)
    .join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1340px; padding: 0 16px; color: #222; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 19px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 36px; }
.sub { color: #666; margin-top: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; border: 1px solid #eee; }
figure svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; margin-top: 12px; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f6f6f6; }
nav { margin: 8px 0 0; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p class="sub">${escapeXml(options.subtitle ?? '')}</p>
<nav>${nav}</nav>
${sections}
</body>
</html>
`;
}
