/**
 * The README's options table mirrors LEASE_DEFAULTS (the policy checklist: DEFAULTS is the single
 * source of every default, and the README shows it).
 */
import { readFileSync } from 'node:fs';
import { systemClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { LEASE_DEFAULTS } from './lease-options.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function optionsTable(heading: string): Map<string, string> {
  const start = readme.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const section = readme.slice(start + heading.length).split(/\n## /)[0]!;
  const table = section.slice(section.indexOf('| option | default |'));
  const rows = new Map<string, string>();
  for (const line of table.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [, option, value] = line.split('|').map((cell) => cell.trim());
    rows.set(option!.replaceAll('`', ''), value!);
  }
  return rows;
}

function cell(value: unknown): string {
  if (value === undefined) return 'the local validity'; // storeTimeout
  if (value === systemClock) return '`systemClock`';
  if (value === Math.random) return '`Math.random`';
  if (typeof value === 'number') return `\`${String(value).replace(/\B(?=(\d{3})+$)/g, '_')}\``;
  if (typeof value === 'string') return `\`'${value}'\``;
  return 'unknown';
}

describe('README options table', () => {
  it('## `createLease(options)` mirrors LEASE_DEFAULTS', () => {
    const rows = optionsTable('## `createLease(options)`');
    for (const [option, value] of Object.entries(LEASE_DEFAULTS)) {
      expect(rows.get(option), option).toBe(cell(value));
    }
    for (const required of ['store', 'resource', 'ttl'])
      expect(rows.get(required)).toBe('required');
  });
});
