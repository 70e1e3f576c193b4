import { Buffer, isUtf8 } from 'node:buffer';
import { isStoredHeaderList, type StoredResponse } from '../store.js';

/**
 * The byte layout of one idempotency record in a Redis string value. Binary-safe: the response
 * body is kept as raw bytes, never as text.
 *
 * ```
 * "fl1" status  owner-part            fingerprint-part      [response-part]
 * "fl1" "P"|"C" <len>":"<owner bytes> <len>":"<fp bytes>    <len>":"<meta JSON> <body bytes>
 * ```
 *
 * `<len>` is the decimal byte length of what follows the colon. The layout is chosen so that the
 * Lua scripts never parse anything: the owner check is a prefix comparison against
 * `"fl1P" + owner-part` (the length prefix makes it unambiguous), and completion rewrites the
 * status byte and appends the response part after the fingerprint that is already there.
 * `meta` is `[status, headers, bodyOmitted]`; the body is everything after it.
 */

/** Prefix of an IN_PROGRESS record. */
export const IN_PROGRESS_TAG = 'fl1P';
/** Prefix of a COMPLETED record. */
export const COMPLETED_TAG = 'fl1C';

/**
 * `<len>":"<text>` as a string: the clients send string arguments as UTF-8, so its bytes are
 * exactly the length-prefixed UTF-8 of `text` (`<len>` counts bytes). A string costs the client
 * less than a Buffer (ioredis concatenates a command with any Buffer argument into one Buffer).
 */
function lengthPrefixed(text: string): string {
  return `${Buffer.byteLength(text, 'utf8')}:${text}`;
}

/** `"fl1P" + owner-part`: the prefix an owner's IN_PROGRESS record starts with. */
export function ownedPrefix(owner: string): string {
  return IN_PROGRESS_TAG + lengthPrefixed(owner);
}

/** The whole IN_PROGRESS value written by a claim. */
export function encodeClaim(owner: string, fingerprint: string): string {
  return ownedPrefix(owner) + lengthPrefixed(fingerprint);
}

/**
 * The response part appended on completion. A body that is valid UTF-8 (JSON, text: nearly every
 * response) is sent as a string, whose UTF-8 encoding is exactly those bytes (valid UTF-8 decodes
 * and re-encodes unchanged), so the client writes it with the rest of the command; any other body
 * is sent as bytes, which costs the client a copy of the whole command into one Buffer.
 */
export function encodeResponse(response: StoredResponse): string | Buffer {
  const meta = lengthPrefixed(
    JSON.stringify([response.status, response.headers, response.bodyOmitted]),
  );
  const body = response.body;
  if (body.byteLength === 0) return meta;
  const bytes = Buffer.isBuffer(body)
    ? body
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (isUtf8(bytes)) return meta + bytes.toString('utf8');
  const metaLength = Buffer.byteLength(meta, 'utf8');
  const out = Buffer.allocUnsafe(metaLength + body.byteLength);
  out.write(meta, 0, 'utf8');
  out.set(body, metaLength);
  return out;
}

/** A decoded record (without its expiry, which comes from `PTTL`). */
export interface DecodedRecord {
  readonly status: 'IN_PROGRESS' | 'COMPLETED';
  readonly fingerprint: string;
  readonly response?: StoredResponse;
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Buffer) {}

  /** Reads `<len>":"<bytes>`; undefined when malformed. */
  field(): Buffer | undefined {
    const colon = this.bytes.indexOf(0x3a, this.offset);
    // A length has 1..10 digits; anything else is garbage.
    if (colon <= this.offset || colon - this.offset > 10) return undefined;
    const digits = this.bytes.toString('latin1', this.offset, colon);
    if (!/^(0|[1-9][0-9]*)$/.test(digits)) return undefined;
    const length = Number(digits);
    const start = colon + 1;
    if (start + length > this.bytes.length) return undefined;
    this.offset = start + length;
    return this.bytes.subarray(start, start + length);
  }
}

/** Decodes a stored value; `undefined` when it is not a record this version can read. */
export function decodeRecord(bytes: Buffer): DecodedRecord | undefined {
  const tag = bytes.toString('latin1', 0, 4);
  if (tag !== IN_PROGRESS_TAG && tag !== COMPLETED_TAG) return undefined;
  const reader = new Reader(bytes);
  reader.offset = 4;
  if (reader.field() === undefined) return undefined; // owner: never needed after the claim
  const fingerprint = reader.field();
  if (fingerprint === undefined) return undefined;
  if (tag === IN_PROGRESS_TAG) {
    if (reader.offset !== bytes.length) return undefined;
    return { status: 'IN_PROGRESS', fingerprint: fingerprint.toString('utf8') };
  }
  const metaBytes = reader.field();
  if (metaBytes === undefined) return undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(metaBytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(meta) || meta.length !== 3) return undefined;
  const [status, headers, bodyOmitted] = meta as unknown[];
  if (
    typeof status !== 'number' ||
    !Number.isInteger(status) ||
    status < 100 ||
    status > 599 ||
    !isStoredHeaderList(headers) ||
    typeof bodyOmitted !== 'boolean'
  ) {
    return undefined;
  }
  return {
    status: 'COMPLETED',
    fingerprint: fingerprint.toString('utf8'),
    response: { status, headers, body: bytes.subarray(reader.offset), bodyOmitted },
  };
}
