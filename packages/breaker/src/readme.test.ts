/**
 * The README's options tables mirror the `*_DEFAULTS` objects (the policy checklist: DEFAULTS is
 * the single source of every default, and the README shows it).
 */
import { handleAll } from '@faultline/core';
import { readmeNumber, readmeOptionsTable } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';
import { ADAPTIVE_THROTTLE_DEFAULTS } from './adaptive-throttle-options.js';
import { CIRCUIT_BREAKER_DEFAULTS } from './circuit-breaker-options.js';
import { handleOverload } from './overload.js';

const readme = new URL('../README.md', import.meta.url);

/** The options table under `heading`; the heading must exist. */
function optionsTable(heading: string): Map<string, string> {
  const rows = readmeOptionsTable(readme, heading);
  expect(rows, heading).toBeDefined();
  return rows!;
}

const RULES = new Map<unknown, string>([
  [handleAll, 'handleAll'],
  [handleOverload, 'handleOverload'],
]);

/** A default as the README writes it: `5_000`, `'circuit-breaker'`, `handleAll`. */
function cell(value: unknown): string {
  if (typeof value === 'number') return readmeNumber(value);
  if (typeof value === 'string') return `\`'${value}'\``;
  return `\`${RULES.get(value) ?? 'unknown function'}\``;
}

/** DEFAULTS flattened to README option names (`halfOpen.probes`). */
function flatten(defaults: object, prefix = ''): Array<[string, unknown]> {
  return Object.entries(defaults).flatMap(([key, value]) =>
    value !== null && typeof value === 'object'
      ? flatten(value, `${prefix}${key}.`)
      : [[`${prefix}${key}`, value] as [string, unknown]],
  );
}

describe('README options tables', () => {
  it.each([
    ['## `circuitBreaker(options)`', CIRCUIT_BREAKER_DEFAULTS],
    ['## `adaptiveThrottle(options)`', ADAPTIVE_THROTTLE_DEFAULTS],
  ] as const)('%s mirrors its DEFAULTS', (heading, defaults) => {
    const rows = optionsTable(heading);
    for (const [option, value] of flatten(defaults)) {
      expect(rows.get(option), `${heading} ${option}`).toBe(cell(value));
    }
  });
});
