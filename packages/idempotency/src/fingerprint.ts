import { sha256HexSync } from './sha256.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Canonical JSON in the spirit of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no
 * whitespace, `JSON.stringify` for primitives. Two JSON documents that differ only in key order
 * or whitespace canonicalise to the same text.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** Query parameters sorted by name, then value, so that their order does not matter. */
export function canonicalQuery(query: string): string {
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const pairs = Array.from(params.entries());
  pairs.sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0,
  );
  return new URLSearchParams(pairs).toString();
}

/** Whether a content type is JSON (`application/json`, `application/*+json`). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** A request body as adapters hand it over: raw bytes, text, or an already parsed value. */
export type FingerprintBody = Uint8Array | string | { readonly parsed: unknown } | undefined;

/** The bytes the fingerprint covers for a body: canonical JSON for JSON, raw bytes otherwise. */
export function bodyBytes(body: FingerprintBody, contentType: string | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  if (typeof body === 'object' && !(body instanceof Uint8Array)) {
    return utf8(`json:${canonicalJson(body.parsed)}`);
  }
  if (isJsonContentType(contentType)) {
    try {
      const text = typeof body === 'string' ? body : decoder.decode(body);
      if (text.length > 0) return utf8(`json:${canonicalJson(JSON.parse(text))}`);
    } catch {
      // Not JSON after all: fingerprint the raw bytes.
    }
  }
  const raw = typeof body === 'string' ? utf8(body) : body;
  const out = new Uint8Array(raw.length + 4);
  out.set(RAW_PREFIX, 0);
  out.set(raw, 4);
  return out;
}

const RAW_PREFIX = utf8('raw:');

/** Inputs at least this large go to Web Crypto (faster per byte, off the main thread). */
const WEB_CRYPTO_THRESHOLD = 64 * 1024;

/** A synchronous SHA-256 returning lower-case hex; a string input is hashed as its UTF-8. */
export type Sha256Hex = (data: Uint8Array | string) => string;

let smallHash: Sha256Hex = (data) => sha256HexSync(typeof data === 'string' ? utf8(data) : data);

/**
 * Replaces the hash used for inputs under 64 KiB. The Node adapters install `node:crypto`'s
 * native SHA-256 (4–5× faster than the JS one at ~100 bytes) when they load; this browser-safe
 * module cannot import it itself. Both compute SHA-256, so keys and fingerprints are identical
 * whichever is installed.
 * @internal
 */
export function installSha256(hash: Sha256Hex): void {
  smallHash = hash;
}

/**
 * SHA-256 hex of `bytes` computed synchronously when the input is small (the usual store key
 * or JSON body), or `undefined` for a large input that should go through {@link sha256Hex}.
 * Lets the server skip a promise hop per hash.
 * @internal
 */
export function sha256HexNow(bytes: Uint8Array): string | undefined {
  return bytes.length < WEB_CRYPTO_THRESHOLD ? smallHash(bytes) : undefined;
}

/**
 * {@link sha256HexNow} over the UTF-8 of `text` (a native hasher encodes it itself), or
 * `undefined` when the text may be 64 KiB or more in UTF-8.
 * @internal
 */
export function sha256HexNowText(text: string): string | undefined {
  return text.length * 3 < WEB_CRYPTO_THRESHOLD ? smallHash(text) : undefined;
}

/**
 * Lower-case hex of SHA-256 over `bytes`: synchronous for small inputs (no thread-pool hop;
 * `node:crypto` when a Node adapter is loaded, else plain JS), Web Crypto (browsers, Node ≥ 20,
 * Deno, Bun) for large ones.
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  if (bytes.length < WEB_CRYPTO_THRESHOLD) return smallHash(bytes);
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>),
  );
  let hex = '';
  for (let i = 0; i < digest.length; i++) hex += digest[i]!.toString(16).padStart(2, '0');
  return hex;
}

/**
 * UTF-8 bytes of `text`. ASCII (the usual case for keys, paths and JSON) is copied directly:
 * `TextEncoder` costs more than the hashing for strings this short.
 */
export function utf8(text: string): Uint8Array {
  const length = text.length;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return encoder.encode(text);
    out[i] = code;
  }
  return out;
}

/**
 * Length-prefixed concatenation: fields can contain any byte without two different field lists
 * ever encoding to the same bytes. Strings are prefixed with their length in UTF-16 code units
 * and byte fields with their length in bytes (tagged differently), and the whole text part is
 * encoded once.
 */
export function framed(fields: readonly (string | Uint8Array)[]): Uint8Array {
  let text = '';
  const parts: Uint8Array[] = [];
  for (const field of fields) {
    if (typeof field === 'string') {
      text += `s${field.length}:${field}`;
    } else {
      text += `b${field.length}:`;
      parts.push(utf8(text), field);
      text = '';
    }
  }
  if (parts.length === 0) return utf8(text);
  if (text.length > 0) parts.push(utf8(text));
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * {@link framed} of string fields as text: its UTF-8 is exactly `framed(fields)`, so a hasher
 * that encodes strings natively skips the JS encoding loop.
 * @internal
 */
export function framedText(fields: readonly string[]): string {
  let text = '';
  for (const field of fields) text += `s${field.length}:${field}`;
  return text;
}

/** What the default fingerprint covers. */
export interface FingerprintInput {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly contentType: string | undefined;
  readonly body: FingerprintBody;
}

/**
 * The default request fingerprint: SHA-256 over method, path, sorted query and body (canonical
 * JSON for JSON bodies, raw bytes otherwise). Reusing a key with a different fingerprint is a
 * client bug, answered with 422 (draft-ietf-httpapi-idempotency-key-header §2.7).
 */
export function defaultFingerprint(input: FingerprintInput): Promise<string> {
  return sha256Hex(fingerprintBytes(input));
}

/** The bytes {@link defaultFingerprint} hashes. @internal */
export function fingerprintBytes(input: FingerprintInput): Uint8Array {
  return framed([
    input.method.toUpperCase(),
    input.path,
    input.query.length === 0 ? '' : canonicalQuery(input.query),
    bodyBytes(input.body, input.contentType),
  ]);
}
