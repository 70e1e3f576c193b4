import type { ScenarioDefinition, ScenarioReportBase, Table } from '../scenarios/definition.js';
import { definitionOf } from '../scenarios/index.js';
import { escapeXml } from './svg.js';

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

/** A report with the definition that presents it (needed for scenarios that are not built in). */
export interface ReportSection {
  readonly report: ScenarioReportBase;
  readonly definition: ScenarioDefinition;
}

function sectionOf(item: ScenarioReportBase | ReportSection): ReportSection {
  if ('definition' in item && 'report' in item) return item;
  const report = item as ScenarioReportBase;
  const definition = definitionOf(report);
  if (definition === undefined) {
    throw new TypeError(
      `renderReport: no built-in scenario named "${report.scenario}"; pass { report, definition }`,
    );
  }
  return { report, definition };
}

const anchor = (name: string): string => name.replace(/[^A-Za-z0-9_-]+/g, '-');

/**
 * A self-contained HTML page (inline CSS and SVG, no scripts, no network) with a section per
 * scenario: its measured conclusions first, then the model, the charts, notes on what the charts
 * show, and the summary table. Opens in any browser from a file.
 */
export function renderReport(
  reports: ReadonlyArray<ScenarioReportBase | ReportSection>,
  options: ReportOptions = {},
): string {
  const title = options.title ?? 'faultline: retry policies under failure';
  const sections = reports.map(sectionOf);
  const body = sections
    .map(({ report, definition }) => {
      const conclusions = definition.conclusions(report);
      const notes = definition.notes?.(report) ?? [];
      const charts = definition
        .charts(report)
        .map((svg) => `<figure>${svg}</figure>`)
        .join('\n');
      return `<section id="${anchor(definition.name)}">
<h2>${escapeXml(definition.title)}</h2>
<div class="conclusion"><strong>What this run shows.</strong> ${conclusions.map((c) => escapeXml(c)).join(' ')}</div>
<p class="model"><strong>Model.</strong> ${escapeXml(definition.description)} Seed ${report.seed}, ${report.runs} run${report.runs === 1 ? '' : 's'} per configuration.</p>
<div class="charts">${charts}</div>
${notes.length > 0 ? `<ul class="notes">${notes.map((n) => `<li>${escapeXml(n)}</li>`).join('\n')}</ul>` : ''}
${htmlTable(definition.table(report))}
</section>`;
    })
    .join('\n');
  const nav = sections
    .map(
      ({ definition }) => `<a href="#${anchor(definition.name)}">${escapeXml(definition.name)}</a>`,
    )
    .join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1340px; padding: 0 16px; color: #222; line-height: 1.45; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 19px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 40px; }
.sub { color: #666; margin-top: 0; }
.conclusion { background: #eef5ee; border-left: 4px solid #2ca02c; padding: 8px 12px; margin: 10px 0; font-size: 15px; }
.model { color: #444; font-size: 14px; }
.notes { color: #333; font-size: 14px; max-width: 1300px; }
.notes li { margin: 4px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; border: 1px solid #eee; }
figure svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; margin-top: 12px; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
td { white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f6f6f6; }
nav { margin: 8px 0 0; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p class="sub">${escapeXml(options.subtitle ?? '')}</p>
<nav>${nav}</nav>
${body}
</body>
</html>
`;
}
