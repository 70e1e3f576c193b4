import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './fingerprint.js';
import { sha256HexSync } from './sha256.js';

const text = (value: string) => new TextEncoder().encode(value);

async function webCrypto(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

describe('sha256HexSync', () => {
  // FIPS 180-2 Appendix B / NIST CSRC example values.
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('NIST vector %j', (input, expected) => {
    expect(sha256HexSync(text(input))).toBe(expected);
  });

  it('NIST vector: one million "a"', () => {
    expect(sha256HexSync(new Uint8Array(1_000_000).fill(0x61))).toBe(
      'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
    );
  });

  it('property: equals Web Crypto for any input (every padding boundary)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        expect(sha256HexSync(bytes)).toBe(await webCrypto(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('sha256Hex agrees across the Web Crypto threshold', async () => {
    const big = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
    expect(await sha256Hex(big)).toBe(sha256HexSync(big));
  });
});
