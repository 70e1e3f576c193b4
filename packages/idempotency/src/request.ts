/**
 * The request and response shapes an adapter exchanges with the server core: what it hands to
 * `begin`, what it hands to `complete`, and how far a response got when the client left.
 * @module
 */
import type { FingerprintBody } from './fingerprint.js';
import type { HeaderInput } from './headers.js';

/** The request as an adapter hands it to `Idempotency.begin`. */
export interface IdempotencyRequest {
  /** HTTP method, any case. */
  readonly method: string;
  /** The URL path (no query), e.g. `/orders`. */
  readonly path: string;
  /** The raw query string, with or without the leading `?`. Default `''`. */
  readonly query?: string;
  /**
   * Request headers by lower-case name. A repeated header is an array (Node's
   * `headersDistinct`) or one comma-joined string (Fetch `Headers`); both count as several values.
   */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The body: raw bytes, text, or `{ parsed }` when a framework already parsed it. */
  readonly body?: FingerprintBody;
  /** The framework's own request object, for `scope` and `fingerprint` callbacks. */
  readonly raw?: unknown;
}

/** A response as an adapter hands it to `Idempotency.complete`. */
export interface CompletedResponse {
  readonly status: number;
  readonly headers: HeaderInput;
  /** The body bytes the client received (or the captured prefix when `bodyOmitted`). */
  readonly body: Uint8Array;
  /** The body outgrew the capture limit (see `ExecutionToken.capture()`). */
  readonly bodyOmitted?: boolean;
}

/** How far a response had got, as the adapter saw it (see `Idempotency.disconnected`). */
export interface ResponseProgress {
  /** The status line was sent (or, for a Web adapter, the handler returned its `Response`). */
  readonly started: boolean;
  /** The response status (meaningful when `started`). */
  readonly status: number;
}
