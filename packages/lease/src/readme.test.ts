/**
 * The README's options table mirrors LEASE_DEFAULTS (the policy checklist: DEFAULTS is the single
 * source of every default, and the README shows it).
 */
import { systemClock } from '@faultline/clock';
import { readmeNumber, readmeOptionsTable } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';
import { LEASE_DEFAULTS } from './lease-options.js';

const readme = new URL('../README.md', import.meta.url);

/** The options table under `heading`; the heading must exist. */
function optionsTable(heading: string): Map<string, string> {
  const rows = readmeOptionsTable(readme, heading);
  expect(rows, heading).toBeDefined();
  return rows!;
}

function cell(value: unknown): string {
  if (value === undefined) return 'the local validity'; // storeTimeout
  if (value === systemClock) return '`systemClock`';
  if (value === Math.random) return '`Math.random`';
  if (typeof value === 'number') return readmeNumber(value);
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
