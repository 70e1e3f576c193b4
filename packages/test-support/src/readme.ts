import { readFileSync } from 'node:fs';

/**
 * The options table under `heading` in a package README (`| option | default | meaning |`), as
 * option name (backticks removed) → default cell, or `undefined` when the README has no such
 * heading. The policy checklist's "README options table = DEFAULTS" tests read it.
 */
export function readmeOptionsTable(readme: URL, heading: string): Map<string, string> | undefined {
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf(heading);
  if (start < 0) return undefined;
  const section = text.slice(start + heading.length).split(/\n## /)[0]!;
  const table = section.slice(section.indexOf('| option | default |'));
  const rows = new Map<string, string>();
  for (const line of table.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [, option, value] = line.split('|').map((cell) => cell.trim());
    rows.set(option!.replaceAll('`', ''), value!);
  }
  return rows;
}

/** A number as the READMEs write it, digits grouped by `_`: `` `5_000` ``. */
export function readmeNumber(value: number): string {
  return `\`${String(value).replace(/\B(?=(\d{3})+$)/g, '_')}\``;
}
