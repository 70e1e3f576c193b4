import type { ScenarioDefinition, ScenarioReportBase, Table } from './scenarios/definition.js';
import { definitionOf } from './scenarios/index.js';

/** The summary table of a built-in scenario's report (or of any report, given its definition). */
export function tableOf(report: ScenarioReportBase, definition?: ScenarioDefinition): Table {
  const d = definition ?? definitionOf(report);
  if (d === undefined) throw new TypeError(`tableOf: no scenario named "${report.scenario}"`);
  return d.table(report);
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

/** A scenario's terminal output: its table, then its measured conclusions as paragraphs. */
export function formatSection(report: ScenarioReportBase, definition?: ScenarioDefinition): string {
  const d = definition ?? definitionOf(report);
  if (d === undefined) throw new TypeError(`formatSection: no scenario named "${report.scenario}"`);
  const conclusions = d.conclusions(report).map((line) => `  ${wrap(line, 96, '  ')}`);
  return `${formatTable(d.table(report))}\n\n${conclusions.join('\n')}`;
}

/** Wraps `text` at `width` columns, indenting continuation lines. */
function wrap(text: string, width: number, indent: string): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length === 0 ? word : `${line} ${word}`;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines.join(`\n${indent}`);
}
