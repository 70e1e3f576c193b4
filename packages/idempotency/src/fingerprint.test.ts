import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDuration } from './duration.js';
import {
  bodyBytes,
  canonicalJson,
  canonicalQuery,
  defaultFingerprint,
  framed,
  isJsonContentType,
  sha256Hex,
} from './fingerprint.js';
import { parseKeyHeader } from './key.js';

function shuffleKeys(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffleKeys(item, random));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  entries.sort(() => random() - 0.5);
  return Object.fromEntries(entries.map(([key, item]) => [key, shuffleKeys(item, random)]));
}

describe('fingerprint', () => {
  it('SHA-256 matches the FIPS 180-2 test vector ("abc")', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('property: canonical JSON ignores key order and whitespace', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.integer(),
        fc.integer({ min: 0, max: 4 }),
        (value, seed, indent) => {
          let s = seed;
          const random = () => {
            s = (s * 1103515245 + 12345) & 0x7fffffff;
            return s / 0x7fffffff;
          };
          const shuffled = JSON.stringify(shuffleKeys(value, random), null, indent);
          expect(canonicalJson(JSON.parse(shuffled))).toBe(canonicalJson(value));
        },
      ),
    );
  });

  it('property: framing never lets two field lists encode alike', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string(), { maxLength: 4 }),
        fc.array(fc.string(), { maxLength: 4 }),
        (a, b) => {
          const same = a.length === b.length && a.every((item, i) => item === b[i]);
          const bytesA = Array.from(framed(a)).join(',');
          const bytesB = Array.from(framed(b)).join(',');
          expect(bytesA === bytesB).toBe(same);
        },
      ),
    );
  });

  it('query order does not matter; values do', () => {
    expect(canonicalQuery('b=2&a=1&a=0')).toBe(canonicalQuery('?a=0&a=1&b=2'));
    expect(canonicalQuery('a=1')).not.toBe(canonicalQuery('a=2'));
  });

  it('JSON detection and raw fallback', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/problem+json')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
    // Malformed JSON under a JSON content type is fingerprinted as raw bytes.
    expect(new TextDecoder().decode(bodyBytes('{oops', 'application/json'))).toBe('raw:{oops');
    expect(bodyBytes('{"a":1}', 'text/plain')).not.toEqual(bodyBytes('{ "a":1}', 'text/plain'));
  });

  it('the default fingerprint covers method, path, query and body', async () => {
    const base = {
      method: 'POST',
      path: '/a',
      query: '',
      contentType: 'application/json',
      body: '{"x":1}',
    };
    const fp = await defaultFingerprint(base);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(await defaultFingerprint({ ...base, method: 'post' })).toBe(fp);
    for (const change of [
      { method: 'PATCH' },
      { path: '/b' },
      { query: 'y=1' },
      { body: '{"x":2}' },
    ]) {
      expect(await defaultFingerprint({ ...base, ...change })).not.toBe(fp);
    }
  });
});

describe('parseKeyHeader', () => {
  it('property: any printable key round-trips through the quoted form', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x20-\x7e]{1,40}$/), (key) => {
        const quoted = `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
        expect(parseKeyHeader(quoted, 255, true)).toEqual({ ok: true, key });
      }),
    );
  });

  it('a bare token equals its quoted form', () => {
    expect(parseKeyHeader('abc-123', 255, false)).toEqual({ ok: true, key: 'abc-123' });
    expect(parseKeyHeader('"abc-123"', 255, false)).toEqual({ ok: true, key: 'abc-123' });
  });
});

describe('checkDuration', () => {
  it.each([
    ['500ms', 500],
    ['60s', 60_000],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1.5h', 5_400_000],
    [250, 250],
  ])('%j is %d ms', (value, ms) => {
    expect(checkDuration('f', 'o', value, 0, Number.MAX_SAFE_INTEGER)).toBe(ms);
  });
  it.each([['1 week'], ['h'], ['-5s'], [Number.NaN], [null]])('%j is a TypeError', (value) => {
    expect(() => checkDuration('f', 'o', value, 0, 10)).toThrow(TypeError);
  });
  it('out of range is a RangeError', () => {
    expect(() => checkDuration('f', 'o', '11ms', 0, 10)).toThrow(RangeError);
  });
});
