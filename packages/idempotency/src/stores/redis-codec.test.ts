import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { StoredResponse } from '../store.js';
import { decodeRecord, encodeClaim, encodeResponse } from './redis-codec.js';

const utf8 = new TextEncoder();

function response(body: Uint8Array): StoredResponse {
  return { status: 201, headers: [['content-type', 'application/json']], body, bodyOmitted: false };
}

/** What the client puts on the wire for an argument: a string as UTF-8, a Buffer as is. */
function wireBytes(argument: string | Buffer): Buffer {
  return typeof argument === 'string' ? Buffer.from(argument, 'utf8') : argument;
}

describe('redis codec: the response part', () => {
  const meta = '49:[201,[["content-type","application/json"]],false]';

  it('sends a UTF-8 body as a string whose UTF-8 bytes are the body bytes', () => {
    for (const text of ['{"id":1}', '{"name":"Zoë","emoji":"🎉"}', 'ascii only', '\u0000\r\n']) {
      const body = utf8.encode(text);
      const part = encodeResponse(response(body));
      expect(typeof part).toBe('string');
      expect(wireBytes(part)).toEqual(Buffer.concat([Buffer.from(meta), body]));
    }
  });

  it('sends any other body as bytes, unchanged', () => {
    const bodies = [
      new Uint8Array([0xff, 0xfe, 0x00, 0x80]), // not UTF-8
      new Uint8Array([0xed, 0xa0, 0x80]), // an encoded surrogate: not valid UTF-8
      new Uint8Array([0xe2, 0x82]), // a truncated sequence
    ];
    for (const body of bodies) {
      const part = encodeResponse(response(body));
      expect(Buffer.isBuffer(part)).toBe(true);
      expect(wireBytes(part)).toEqual(Buffer.concat([Buffer.from(meta), body]));
    }
  });

  it('accepts a body that is a view into a larger buffer', () => {
    const whole = utf8.encode('xx{"ok":true}yy');
    const body = whole.subarray(2, whole.length - 2);
    expect(wireBytes(encodeResponse(response(body)))).toEqual(
      Buffer.concat([Buffer.from(meta), Buffer.from('{"ok":true}')]),
    );
  });

  it('decodes what it encodes, either way', () => {
    for (const body of [utf8.encode('{"name":"Zoë 🎉"}'), new Uint8Array([0xc3, 0x28, 0x00])]) {
      const claim = encodeClaim('owner', 'print');
      const value = Buffer.concat([
        Buffer.from(`fl1C${claim.slice(4)}`),
        wireBytes(encodeResponse(response(body))),
      ]);
      const decoded = decodeRecord(value);
      expect(decoded?.status).toBe('COMPLETED');
      expect(decoded?.fingerprint).toBe('print');
      expect(Array.from(decoded?.response?.body ?? [])).toEqual(Array.from(body));
      expect(decoded?.response?.headers).toEqual([['content-type', 'application/json']]);
    }
  });
});
