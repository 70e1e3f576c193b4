/** The outcome of parsing an `Idempotency-Key` header. */
export type ParsedKey =
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly reason: string };

// Visible ASCII without '"', ',' and '\\': a bare token cannot be confused with a quoted string
// or with a list of several values.
const BARE = /^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]+$/;

/**
 * Parses the key header. draft-ietf-httpapi-idempotency-key-header (§2) defines the value as an
 * RFC 8941 sf-string (`"abc"`); many clients send a bare token (`abc`), which the lenient mode
 * accepts as the same key. `strict` accepts the quoted form only. Several values (a repeated
 * header, or a list), an empty key, a key longer than `maxLength`, a non-printable character and
 * a malformed quoted string are all invalid.
 */
export function parseKeyHeader(
  value: string | readonly string[],
  maxLength: number,
  strict: boolean,
): ParsedKey {
  if (typeof value !== 'string') {
    if (value.length !== 1) return { ok: false, reason: 'the header must have exactly one value' };
    value = value[0]!;
  }
  const text = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (text.length === 0) return { ok: false, reason: 'the key is empty' };
  let key: string;
  if (text.charCodeAt(0) === 0x22) {
    // RFC 8941 §4.2.5: printable ASCII; backslash escapes only '"' and '\'.
    let out = '';
    let i = 1;
    let closed = false;
    for (; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 0x5c) {
        const next = text.charCodeAt(i + 1);
        if (next !== 0x22 && next !== 0x5c) {
          return { ok: false, reason: 'malformed quoted string: bad escape' };
        }
        out += text[i + 1];
        i++;
      } else if (code === 0x22) {
        closed = true;
        i++;
        break;
      } else if (code < 0x20 || code > 0x7e) {
        return { ok: false, reason: 'the key contains a non-printable character' };
      } else {
        out += text[i];
      }
    }
    if (!closed) return { ok: false, reason: 'malformed quoted string: no closing quote' };
    if (i !== text.length) {
      return text.slice(i).trimStart().startsWith(',')
        ? { ok: false, reason: 'the header must have exactly one value' }
        : { ok: false, reason: 'malformed quoted string: text after the closing quote' };
    }
    key = out;
  } else {
    if (strict) return { ok: false, reason: 'strict mode accepts only a quoted key ("...")' };
    if (text.includes(',')) return { ok: false, reason: 'the header must have exactly one value' };
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x21 || code > 0x7e) {
        return { ok: false, reason: 'the key contains a non-printable character' };
      }
    }
    if (!BARE.test(text)) return { ok: false, reason: 'malformed key' };
    key = text;
  }
  if (key.length === 0) return { ok: false, reason: 'the key is empty' };
  if (key.length > maxLength) {
    return { ok: false, reason: `the key is longer than ${maxLength} characters` };
  }
  return { ok: true, key };
}
