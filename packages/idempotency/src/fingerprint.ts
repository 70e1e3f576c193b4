import { BodyTooDeepError, MAX_JSON_DEPTH } from './errors.js';
import { sha256HexSync } from './sha256.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Canonical JSON of a parsed value, in the spirit of RFC 8785 (JCS): object keys sorted by UTF-16
 * code units, no whitespace, `JSON.stringify` for strings and numbers (a `bigint`, from a
 * BigInt-aware parser, by its digits). Two JSON documents that differ only in key order or
 * whitespace canonicalise to the same text. Throws {@link BodyTooDeepError} past
 * {@link MAX_JSON_DEPTH} levels of nesting.
 */
export function canonicalJson(value: unknown): string {
  return canonicalValue(value, 0);
}

function canonicalValue(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      // What JSON.stringify writes: shortest round-trip digits, -0 as 0, NaN/Infinity as null.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return 'null';
  }
  if (value === null) return 'null';
  if (depth >= MAX_JSON_DEPTH) throw new BodyTooDeepError(MAX_JSON_DEPTH);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalValue(value[i], depth + 1);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = sortKeys(Object.keys(record));
  let out = '{';
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalValue(item, depth + 1)}`;
  }
  return `${out}}`;
}

/**
 * `keys.sort()` (UTF-16 code unit order) in place. A request body's objects have a handful of
 * members: an insertion sort allocates nothing, where `Array.prototype.sort` copies the array
 * into a work area first.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/**
 * Canonical JSON of a document given as text: the same text {@link canonicalJson} gives for
 * ordinary JSON, but compared as a handler that reads the raw body could see it:
 * - an object that repeats a member name is not canonicalised (`undefined`: compare the raw
 *   bytes), because `JSON.parse` keeps the last value and other parsers the first;
 * - a number with more significant digits than a double keeps (an integer above 2^53, a long
 *   decimal) is kept as written, so two such numbers compare by their digits, not by the double
 *   they round to.
 * Returns `undefined` for text that is not JSON; throws {@link BodyTooDeepError} past
 * {@link MAX_JSON_DEPTH} levels of nesting.
 */
export function canonicalJsonText(text: string): string | undefined {
  const parser = new JsonCanonicaliser(text);
  try {
    const out = parser.value(0);
    parser.space();
    return parser.at === text.length ? out : undefined;
  } catch (error) {
    if (error === NOT_CANONICAL) return undefined;
    throw error;
  }
}

/** Thrown inside {@link JsonCanonicaliser}: not JSON, or a repeated member name. */
const NOT_CANONICAL = Symbol('not canonical');

/** A recursive-descent JSON reader that writes canonical text as it goes (RFC 8259 grammar). */
class JsonCanonicaliser {
  at = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  space(): void {
    const text = this.#text;
    let at = this.at;
    for (; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
    }
    this.at = at;
  }

  value(depth: number): string {
    this.space();
    const code = this.#text.charCodeAt(this.at);
    switch (code) {
      case 0x7b: // {
        return this.object(depth);
      case 0x5b: // [
        return this.array(depth);
      case 0x22: // "
        return JSON.stringify(this.string());
      case 0x74: // t
        return this.literal('true');
      case 0x66: // f
        return this.literal('false');
      case 0x6e: // n
        return this.literal('null');
      default:
        return this.number();
    }
  }

  /**
   * Enters the object or array at `at` (on its opening bracket) at `depth`; `true` when it is
   * empty, its closing `close` bracket then already read.
   */
  #empty(depth: number, close: number): boolean {
    if (depth >= MAX_JSON_DEPTH) throw new BodyTooDeepError(MAX_JSON_DEPTH);
    this.at++;
    this.space();
    if (this.#text.charCodeAt(this.at) !== close) return false;
    this.at++;
    return true;
  }

  object(depth: number): string {
    if (this.#empty(depth, 0x7d)) return '{}'; // }
    const members: [string, string][] = [];
    for (;;) {
      this.space();
      if (this.#text.charCodeAt(this.at) !== 0x22) throw NOT_CANONICAL;
      const key = this.string();
      this.space();
      if (this.#text.charCodeAt(this.at) !== 0x3a) throw NOT_CANONICAL;
      this.at++;
      members.push([key, this.value(depth + 1)]);
      this.space();
      const next = this.#text.charCodeAt(this.at++);
      if (next === 0x7d) break;
      if (next !== 0x2c) throw NOT_CANONICAL;
    }
    members.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let out = '{';
    for (let i = 0; i < members.length; i++) {
      const [key, item] = members[i]!;
      // Sorted, so a repeated name sits next to its twin.
      if (i > 0 && members[i - 1]![0] === key) throw NOT_CANONICAL;
      if (i > 0) out += ',';
      out += `${JSON.stringify(key)}:${item}`;
    }
    return `${out}}`;
  }

  array(depth: number): string {
    if (this.#empty(depth, 0x5d)) return '[]'; // ]
    let out = '[';
    for (;;) {
      out += this.value(depth + 1);
      this.space();
      const next = this.#text.charCodeAt(this.at++);
      if (next === 0x5d) break;
      if (next !== 0x2c) throw NOT_CANONICAL;
      out += ',';
    }
    return `${out}]`;
  }

  /** The decoded string at `at` (which is on its opening quote). */
  string(): string {
    const text = this.#text;
    const start = this.at;
    let escaped = false;
    let at = start + 1;
    for (; ; at++) {
      if (at >= text.length) throw NOT_CANONICAL;
      const code = text.charCodeAt(at);
      if (code === 0x22) break;
      if (code < 0x20) throw NOT_CANONICAL;
      if (code === 0x5c) {
        escaped = true;
        at++;
      }
    }
    this.at = at + 1;
    if (!escaped) return text.slice(start + 1, at);
    try {
      return JSON.parse(text.slice(start, at + 1)) as string;
    } catch {
      throw NOT_CANONICAL;
    }
  }

  literal(word: string): string {
    if (!this.#text.startsWith(word, this.at)) throw NOT_CANONICAL;
    this.at += word.length;
    return word;
  }

  number(): string {
    const text = this.#text;
    const start = this.at;
    let at = start;
    if (text.charCodeAt(at) === 0x2d) at++;
    const first = text.charCodeAt(at);
    if (first === 0x30) at++;
    else if (first >= 0x31 && first <= 0x39) at = digits(text, at);
    else throw NOT_CANONICAL;
    if (text.charCodeAt(at) === 0x2e) {
      const after = digits(text, at + 1);
      if (after === at + 1) throw NOT_CANONICAL;
      at = after;
    }
    const e = text.charCodeAt(at);
    if (e === 0x65 || e === 0x45) {
      at++;
      const sign = text.charCodeAt(at);
      if (sign === 0x2b || sign === 0x2d) at++;
      const after = digits(text, at);
      if (after === at) throw NOT_CANONICAL;
      at = after;
    }
    this.at = at;
    const literal = text.slice(start, at);
    const value = Number(literal);
    if (!Number.isFinite(value)) return literal;
    const shortest = String(value);
    // Up to 15 significant digits every decimal survives the round trip through a double.
    if (literal.length <= 15) return shortest;
    return significant(literal) === significant(shortest) ? shortest : literal;
  }
}

function digits(text: string, at: number): number {
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code < 0x30 || code > 0x39) break;
    at++;
  }
  return at;
}

/** The significant digits of a JSON number (no sign, point, exponent, leading/trailing zeros). */
function significant(number: string): string {
  const e = number.search(/[eE]/);
  const mantissa = (e < 0 ? number : number.slice(0, e)).replace(/[-.]/g, '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '');
}

/**
 * Query parameters in a canonical order: sorted by name only, so that the order of *different*
 * names does not matter while repeated names keep the order of their values
 * (`?sort=price&sort=name` is not `?sort=name&sort=price`: a handler reading the list sees it).
 */
export function canonicalQuery(query: string): string {
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const pairs = Array.from(params.entries());
  // Array.prototype.sort is stable (ES2019), so equal names keep their order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
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
    let text: string | undefined;
    try {
      text = typeof body === 'string' ? body : decoder.decode(body);
    } catch {
      // Not UTF-8: fingerprint the raw bytes.
    }
    // Malformed JSON or a repeated member name: fingerprint the raw bytes.
    const canonical = text === undefined || text.length === 0 ? undefined : canonicalJsonText(text);
    if (canonical !== undefined) return utf8(`json:${canonical}`);
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

/**
 * The bytes {@link fingerprintBytes} returns, as text whose UTF-8 is exactly those bytes, when the
 * body is absent or JSON (parsed, or text that canonicalises); `undefined` otherwise (raw bytes,
 * text that is not JSON: use {@link fingerprintBytes}). A native hasher encodes the text itself,
 * so the usual JSON request skips the JS UTF-8 loop and every intermediate byte array.
 * Throws {@link BodyTooDeepError} as `fingerprintBytes` does.
 * @internal
 */
export function fingerprintText(input: FingerprintInput): string | undefined {
  const body = input.body;
  let json: string | undefined;
  if (body === undefined) {
    json = undefined;
  } else if (typeof body === 'object' && !(body instanceof Uint8Array)) {
    json = canonicalJson(body.parsed);
  } else if (body.length > 0 && isJsonContentType(input.contentType)) {
    let text: string;
    try {
      text = typeof body === 'string' ? body : decoder.decode(body);
    } catch {
      return undefined; // Not UTF-8: raw bytes.
    }
    json = canonicalJsonText(text);
    if (json === undefined) return undefined;
  } else {
    return undefined;
  }
  const method = input.method.toUpperCase();
  const path = input.path;
  const query = input.query.length === 0 ? '' : canonicalQuery(input.query);
  const head = `s${method.length}:${method}s${path.length}:${path}s${query.length}:${query}`;
  if (json === undefined) return `${head}b0:`;
  // Canonical JSON comes from JSON.stringify: well-formed UTF-16, so its UTF-8 length is exact.
  return `${head}b${utf8Length(json) + 5}:json:${json}`;
}

/** The UTF-8 length of well-formed UTF-16 text (a lone surrogate counts as U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      length += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair: two code units, four bytes.
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 2;
        i++;
      } else {
        length += 2;
      }
    } else {
      length += 2;
    }
  }
  return length;
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
