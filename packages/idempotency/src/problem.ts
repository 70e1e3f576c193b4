const encoder = new TextEncoder();

/** The machine-readable codes of the problems the server answers with. */
export type ProblemCode =
  | 'MISSING_KEY'
  | 'INVALID_KEY'
  | 'CONFLICT'
  | 'FINGERPRINT_MISMATCH'
  | 'STORE_UNAVAILABLE'
  | 'BODY_TOO_LARGE'
  | 'BODY_TOO_DEEP'
  | 'MISSING_SCOPE'
  | 'RESPONSE_UNAVAILABLE';

/** An RFC 9457 problem details object, with faultline's `code` extension member. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ProblemCode;
}

/** A response ready for an adapter to send: status, headers and body bytes. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Uint8Array;
}

const TYPE_BASE = 'https://faultline.dev/problems/idempotency/';

const PROBLEMS: Readonly<Record<ProblemCode, { status: number; title: string; slug: string }>> = {
  MISSING_KEY: { status: 400, title: 'Idempotency-Key is missing', slug: 'missing-key' },
  INVALID_KEY: { status: 400, title: 'Idempotency-Key is invalid', slug: 'invalid-key' },
  CONFLICT: {
    status: 409,
    title: 'A request with this Idempotency-Key is being processed',
    slug: 'conflict',
  },
  FINGERPRINT_MISMATCH: {
    status: 422,
    title: 'Idempotency-Key reused with a different request',
    slug: 'fingerprint-mismatch',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    title: 'Idempotency store unavailable',
    slug: 'store-unavailable',
  },
  BODY_TOO_LARGE: { status: 413, title: 'Request body too large', slug: 'body-too-large' },
  BODY_TOO_DEEP: {
    status: 400,
    title: 'Request body nested too deeply',
    slug: 'body-too-deep',
  },
  MISSING_SCOPE: {
    status: 400,
    title: 'No principal for this Idempotency-Key',
    slug: 'missing-scope',
  },
  RESPONSE_UNAVAILABLE: {
    status: 410,
    title: 'The response to this Idempotency-Key is unavailable',
    slug: 'response-unavailable',
  },
};

/** Builds the problem for `code`. */
export function problem(code: ProblemCode, detail: string): Problem {
  const spec = PROBLEMS[code];
  return { type: TYPE_BASE + spec.slug, title: spec.title, status: spec.status, detail, code };
}

/** The HTTP response for a problem: `application/problem+json`, plus `Retry-After` if given. */
export function problemResponse(value: Problem, retryAfterSeconds?: number): HttpResponse {
  const headers: Array<readonly [string, string]> = [
    ['content-type', 'application/problem+json'],
    ['cache-control', 'no-store'],
  ];
  if (retryAfterSeconds !== undefined) headers.push(['retry-after', String(retryAfterSeconds)]);
  return { status: value.status, headers, body: encoder.encode(JSON.stringify(value)) };
}
