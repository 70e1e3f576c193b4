import type { StoredHeader } from './store.js';

/** RFC 9110 §5.6.2 `tchar`: the characters of a token (a method, a header field name). */
const TCHAR = "!#$%&'*+.^_`|~0-9A-Za-z-";

/** An RFC 9110 token: an HTTP method or header field name. */
export const HTTP_TOKEN = new RegExp(`^[${TCHAR}]+$`);

/** A header name, or a prefix of one ending in `*` (a `replayHeaders` entry). */
export const HEADER_NAME_PATTERN = new RegExp(`^[${TCHAR}]+\\*?$`);

/** A predicate on lower-case header names, from an allow-list (see {@link headerFilter}). */
export type HeaderFilter = (name: string) => boolean;

/**
 * The replay allow-list used when `replayHeaders` is not given. A trailing `*` matches a prefix.
 * Representation and navigation metadata only: nothing that belongs to the first exchange.
 */
export const DEFAULT_REPLAY_HEADERS: readonly string[] = [
  'content-type',
  'content-language',
  'content-disposition',
  'location',
  'etag',
  'last-modified',
  'link',
  'cache-control',
  'x-*',
];

/**
 * Never replayed, whatever the allow-list says: cookies (a replay must not log a second client
 * in), hop-by-hop headers (RFC 9110 §7.6.1), `Content-Length` (recomputed for the replay body),
 * `Date` (the replay happens now), and our own markers.
 */
export const NEVER_REPLAYED: ReadonlySet<string> = new Set([
  'set-cookie',
  'set-cookie2',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'date',
  'idempotent-replayed',
  'idempotency-body-omitted',
]);

/** Compiles an allow-list to a predicate over lower-case names. */
export function headerFilter(allow: readonly string[]): HeaderFilter {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of allow) {
    const lower = entry.toLowerCase();
    if (lower.endsWith('*')) prefixes.push(lower.slice(0, -1));
    else exact.add(lower);
  }
  return (name) => {
    if (NEVER_REPLAYED.has(name)) return false;
    if (exact.has(name)) return true;
    for (const prefix of prefixes) if (name.startsWith(prefix)) return true;
    return false;
  };
}

/** Response headers in any common shape. */
export type HeaderInput =
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** Normalises headers to a list of (lower-case name, value) pairs, keeping duplicates in order. */
export function headerList(input: HeaderInput): StoredHeader[] {
  const out: StoredHeader[] = [];
  if (Symbol.iterator in input) {
    for (const [name, value] of input as Iterable<readonly [string, string]>) {
      out.push([name.toLowerCase(), value]);
    }
    return out;
  }
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(value)) for (const item of value) out.push([lower, String(item)]);
    else out.push([lower, String(value)]);
  }
  return out;
}

/**
 * `headerList(input)` restricted to the names `keep` accepts, in one pass (the completion path
 * runs it for every stored response).
 */
export function replayableHeaders(
  input: HeaderInput,
  keep: (name: string) => boolean,
): StoredHeader[] {
  const out: StoredHeader[] = [];
  if (Symbol.iterator in input) {
    for (const [name, value] of input as Iterable<readonly [string, string]>) {
      const lower = name.toLowerCase();
      if (keep(lower)) out.push([lower, value]);
    }
    return out;
  }
  for (const name of Object.keys(input)) {
    const value = (input as Record<string, string | number | readonly string[] | undefined>)[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (!keep(lower)) continue;
    if (Array.isArray(value)) for (const item of value) out.push([lower, String(item)]);
    else out.push([lower, String(value)]);
  }
  return out;
}
