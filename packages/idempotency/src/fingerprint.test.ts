import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDuration } from './duration.js';
import { BodyTooDeepError } from './errors.js';
import {
  bodyBytes,
  canonicalJson,
  canonicalQuery,
  defaultFingerprint,
  fingerprintBytes,
  fingerprintText,
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

  it('query: the order of different names does not matter; values do', () => {
    expect(canonicalQuery('b=2&a=0&a=1')).toBe(canonicalQuery('?a=0&a=1&b=2'));
    expect(canonicalQuery('a=1')).not.toBe(canonicalQuery('a=2'));
  });

  it('item 9: repeated query parameters keep their order (?sort=price&sort=name is another request)', () => {
    expect(canonicalQuery('sort=price&sort=name')).not.toBe(canonicalQuery('sort=name&sort=price'));
    expect(canonicalQuery('sort=price&page=2&sort=name')).toBe(
      canonicalQuery('page=2&sort=price&sort=name'),
    );
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

describe('fingerprint: JSON compared as the handler will see it (issue 14, items 9 and 10)', () => {
  const json = (text: string) => new TextDecoder().decode(bodyBytes(text, 'application/json'));

  it('item 9: duplicate members never compare equal to a different body', () => {
    const dup = json('{"a":1,"a":2}');
    expect(dup).not.toBe(json('{"a":2}'));
    expect(dup).not.toBe(json('{"a":1}'));
    expect(json('{"x":{"a":1,"a":2}}')).not.toBe(json('{"x":{"a":2}}'));
    // The same duplicated body twice is the same request.
    expect(dup).toBe(json('{"a":1,"a":2}'));
  });

  it('item 9: integers above 2^53 are compared by their digits, not by the double they round to', () => {
    expect(json('{"n":9007199254740993}')).not.toBe(json('{"n":9007199254740992}'));
    expect(json('[12345678901234567890]')).not.toBe(json('[12345678901234567000]'));
    // Key order and whitespace still do not matter.
    expect(json('{"n": 9007199254740993, "m": 1}')).toBe(json('{"m":1,"n":9007199254740993}'));
    // A decimal with more digits than a double keeps is compared by its digits too.
    expect(json('[0.1000000000000000055511151231257827]')).not.toBe(json('[0.1]'));
    // Ordinary numbers compare by value, as JSON.parse sees them.
    expect(json('[1.50, 1e2, -0]')).toBe(json('[1.5,100,0]'));
  });

  it('item 9: a parsed body with BigInt values (a BigInt-aware parser) is canonicalised by digits', () => {
    expect(canonicalJson({ n: 9007199254740993n })).not.toBe(
      canonicalJson({ n: 9007199254740992n }),
    );
    expect(canonicalJson({ n: 5n })).toBe('{"n":5}');
  });

  it('property: the raw canonicaliser agrees with JSON.parse + canonicalJson on ordinary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 3 }), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(json(text)).toBe(`json:${canonicalJson(JSON.parse(text))}`);
      }),
    );
  });

  it('item 10: 5 000 levels of nesting are refused with BodyTooDeepError, not a stack overflow', () => {
    const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
    expect(() => bodyBytes(deep, 'application/json')).toThrow(BodyTooDeepError);
    let parsed: unknown = 1;
    for (let i = 0; i < 5_000; i++) parsed = { a: parsed };
    expect(() => canonicalJson(parsed)).toThrow(BodyTooDeepError);
    expect(() => bodyBytes({ parsed }, undefined)).toThrow(BodyTooDeepError);
    // 1 000 levels are fine.
    const ok = `${'['.repeat(1_000)}${']'.repeat(1_000)}`;
    expect(json(ok)).toBe(`json:${ok}`);
  });
});

describe('fingerprintText (the native-hash fast path)', () => {
  const bodies = fc.oneof(
    fc.constant(undefined),
    fc.jsonValue().map((parsed) => ({ parsed })),
    fc.json(),
    fc.json().map((text) => new TextEncoder().encode(text)),
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 40 }),
  );
  const fields = fc.record({
    method: fc.constantFrom('POST', 'patch', 'PUT'),
    path: fc.string({ unit: 'binary' }),
    query: fc.oneof(fc.constant(''), fc.string({ unit: 'binary' })),
    contentType: fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/x+json'),
    body: bodies,
  });

  it('is, in UTF-8, exactly the bytes fingerprintBytes hashes (or undefined: use those)', () => {
    fc.assert(
      fc.property(fields, (input) => {
        const text = fingerprintText(input);
        const bytes = fingerprintBytes(input);
        if (text !== undefined) expect(new TextEncoder().encode(text)).toEqual(bytes);
      }),
      { numRuns: 2_000 },
    );
  });

  it('covers the usual requests: no body, a parsed body, JSON text and JSON bytes', () => {
    const base = { method: 'POST', path: '/orders', query: '', contentType: 'application/json' };
    expect(fingerprintText({ ...base, body: undefined })).toBe('s4:POSTs7:/orderss0:b0:');
    expect(fingerprintText({ ...base, body: { parsed: { b: 'é', a: 1 } } })).toBe(
      's4:POSTs7:/orderss0:b21:json:{"a":1,"b":"é"}', // é: 2 bytes
    );
    expect(fingerprintText({ ...base, body: '{"a": [1, "😀"]}' })).toBe(
      's4:POSTs7:/orderss0:b21:json:{"a":[1,"😀"]}', // 😀: 2 code units, 4 bytes
    );
    expect(fingerprintText({ ...base, body: new TextEncoder().encode('{"a":1}') })).toBeDefined();
    // Not JSON, or not UTF-8: the bytes path.
    expect(fingerprintText({ ...base, body: '{oops' })).toBeUndefined();
    expect(fingerprintText({ ...base, body: new Uint8Array([0xff, 0xfe]) })).toBeUndefined();
    expect(fingerprintText({ ...base, contentType: 'text/plain', body: 'x' })).toBeUndefined();
  });
});

describe('canonicalJson key order', () => {
  // The reference: Array.prototype.sort's default order (UTF-16 code units).
  const reference = (value: unknown): string => {
    if (value === null || typeof value !== 'object') return JSON.stringify(value);
    if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(record[key])}`).join(',')}}`;
  };

  it('sorts small (insertion sort) and large objects exactly like Array.prototype.sort', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 4 }), fc.integer(), {
          maxKeys: 40,
        }),
        (object) => {
          expect(canonicalJson(object)).toBe(reference(object));
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
