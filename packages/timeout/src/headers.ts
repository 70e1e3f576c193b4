import {
  type Clock,
  Deadline,
  formatGrpcTimeout,
  formatTimeoutMillis,
  parseGrpcTimeout,
  parseTimeoutMillis,
  systemClock,
} from '@faultline/clock';
import { checkOptions, formatValue, optionalClock, optionalNumber } from '@faultline/core';

/** The `grpc-timeout` header (gRPC over HTTP/2, "Requests"). */
export const GRPC_TIMEOUT_HEADER = 'grpc-timeout';
/** The default plain-milliseconds header (decimal digits, like Envoy's `x-envoy-*-timeout-ms`). */
export const TIMEOUT_MS_HEADER = 'x-request-timeout-ms';

/** Options of {@link deadlineToHeaders} and {@link deadlineFromHeaders}. */
export interface DeadlineHeaderOptions {
  /**
   * Milliseconds subtracted from the remaining time (≥ 0, default 0): on send, the time the
   * request spends in flight and queued before the callee starts; on receive, time kept back to
   * answer before the caller gives up.
   */
  readonly margin?: number;
  /** Name of the gRPC-form header, or `false` to skip it. Default `'grpc-timeout'`. */
  readonly grpcHeader?: string | false;
  /** Name of the plain-ms header, or `false` to skip it. Default `'x-request-timeout-ms'`. */
  readonly msHeader?: string | false;
}

/** Options of {@link deadlineFromHeaders}. */
export interface DeadlineFromHeadersOptions extends DeadlineHeaderOptions {
  /** Clock of the returned deadline. Default `systemClock`. */
  readonly clock?: Clock;
}

/**
 * Request headers as fetch (`Headers`), Node (`IncomingHttpHeaders`, lower-case keys) or a plain
 * record give them.
 */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

function headerName(
  owner: string,
  option: string,
  value: unknown,
  fallback: string,
): string | false {
  if (value === undefined) return fallback;
  if (value === false || (typeof value === 'string' && value !== '')) return value;
  throw new TypeError(
    `${owner}: option "${option}" must be a non-empty header name or false, received ${formatValue(value)}`,
  );
}

interface ResolvedHeaderOptions {
  readonly margin: number;
  readonly grpcHeader: string | false;
  readonly msHeader: string | false;
}

function resolve(
  owner: string,
  options: unknown,
): ResolvedHeaderOptions & { readonly clock: Clock } {
  const opts = checkOptions<DeadlineFromHeadersOptions>(owner, options);
  return {
    margin: optionalNumber(owner, 'margin', opts.margin, 0, { min: 0 }),
    grpcHeader: headerName(owner, 'grpcHeader', opts.grpcHeader, GRPC_TIMEOUT_HEADER),
    msHeader: headerName(owner, 'msHeader', opts.msHeader, TIMEOUT_MS_HEADER),
    clock: opts.clock === undefined ? systemClock : optionalClock(owner, 'clock', opts.clock),
  };
}

/**
 * The headers that carry what is left of `deadline` (minus `margin`) to another process, as a
 * remaining duration (never a wall-clock time: clocks on two machines disagree). Empty for
 * `Deadline.never`. Values are rounded down, so the callee's deadline is never later than ours.
 *
 * ```ts
 * await policy.execute(({ signal, deadline }) =>
 *   fetch(url, { signal, headers: deadlineToHeaders(deadline, { margin: 5 }) }));
 * ```
 */
export function deadlineToHeaders(
  deadline: Deadline,
  options?: DeadlineHeaderOptions,
): Record<string, string> {
  if (!(deadline instanceof Deadline)) {
    throw new TypeError(
      `deadlineToHeaders: deadline must be a Deadline, received ${formatValue(deadline)}`,
    );
  }
  const { margin, grpcHeader, msHeader } = resolve('deadlineToHeaders', options);
  const headers: Record<string, string> = {};
  const remaining = deadline.remaining();
  if (remaining === Number.POSITIVE_INFINITY) return headers;
  const left = remaining > margin ? remaining - margin : 0;
  if (grpcHeader !== false) headers[grpcHeader] = formatGrpcTimeout(left);
  if (msHeader !== false) headers[msHeader] = formatTimeoutMillis(left);
  return headers;
}

function readHeader(headers: HeaderSource, name: string): string | undefined {
  const getter = (headers as { get?: unknown }).get;
  if (typeof getter === 'function') {
    const value = (getter as (name: string) => string | null).call(headers, name);
    return value ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let value = record[name];
  if (value === undefined) {
    const lower = name.toLowerCase();
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === lower) {
        value = record[key];
        break;
      }
    }
  }
  return typeof value === 'string' ? value : value?.[0];
}

/** The timeout in header `name` (`false`: not read), in ms; Infinity when absent or malformed. */
function readTimeout(
  headers: HeaderSource,
  name: string | false,
  parse: (value: string) => number,
): number {
  if (name === false) return Number.POSITIVE_INFINITY;
  const value = readHeader(headers, name);
  if (value === undefined) return Number.POSITIVE_INFINITY;
  try {
    return parse(value);
  } catch {
    // Malformed: ignored (see deadlineFromHeaders).
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * The deadline a request carries in its headers (the earliest if both forms are present), minus
 * `margin`; `undefined` when it carries none. A malformed value is ignored (treated as absent):
 * a bad header must not fail an otherwise good request. Use `parseGrpcTimeout` from
 * `@faultline/clock` to be strict.
 */
export function deadlineFromHeaders(
  headers: HeaderSource,
  options?: DeadlineFromHeadersOptions,
): Deadline | undefined {
  if (headers === null || typeof headers !== 'object') {
    throw new TypeError(
      `deadlineFromHeaders: headers must be an object, received ${formatValue(headers)}`,
    );
  }
  const { margin, grpcHeader, msHeader, clock } = resolve('deadlineFromHeaders', options);
  const remaining = Math.min(
    readTimeout(headers, grpcHeader, parseGrpcTimeout),
    readTimeout(headers, msHeader, parseTimeoutMillis),
  );
  if (remaining === Number.POSITIVE_INFINITY) return undefined;
  return Deadline.after(remaining > margin ? remaining - margin : 0, clock);
}
