import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Lease } from '../execution-token.js';
import { framed, framedText, sha256HexNow, sha256HexNowText } from '../fingerprint.js';
import { sha256HexSync } from '../sha256.js';
// Loading the Node adapters installs node:crypto's SHA-256 for small inputs.
import './node-common.js';

describe('node:crypto SHA-256 installed by the Node adapters', () => {
  it('NIST vector "abc"', () => {
    expect(sha256HexNow(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('property: same digest as the browser-safe JS implementation (keys stay portable)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha256HexNow(bytes)).toBe(sha256HexSync(bytes));
      }),
    );
  });

  it('property: hashing framed text equals hashing framed bytes (store keys)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 4 }), (fields) => {
        expect(sha256HexNowText(framedText(fields))).toBe(sha256HexSync(framed(fields)));
      }),
    );
  });

  it('leaves inputs of 64 KiB and more to Web Crypto', () => {
    expect(sha256HexNow(new Uint8Array(64 * 1024))).toBeUndefined();
  });
});

describe('fencing tokens made by the Node adapters', () => {
  it('are 128 random bits in hex, all distinct across refills of the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const { owner } = new Lease('k');
      expect(owner).toMatch(/^[0-9a-f]{32}$/);
      seen.add(owner);
    }
    expect(seen.size).toBe(2_000);
  });
});
