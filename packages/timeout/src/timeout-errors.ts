import { ExecutionRejectedError } from '@faultline/core';

/**
 * Which deadline fired: the policy's own duration (`'timeout'`), an enclosing deadline in the
 * context (`'deadline'`: an outer timeout's, or one the caller's context carried), or the ambient
 * deadline of `@faultline/timeout/node` (`'ambient'`: `withDeadline`, a request's deadline).
 */
export type TimeoutSource = 'timeout' | 'deadline' | 'ambient';

const SOURCES: Record<Exclude<TimeoutSource, 'timeout'>, string> = {
  deadline: 'the enclosing deadline',
  ambient: 'the ambient deadline (withDeadline)',
};

/**
 * The rejection of a `timeout` policy whose time ran out (code `TIMEOUT`). Built only when a
 * timeout fires, never on the success path: capturing a stack costs microseconds, and building
 * an Error (or a DOMException) per call is most of what the peers' timeouts cost.
 */
export class TimeoutError extends ExecutionRejectedError {
  override name = 'TimeoutError';
  /** The effective timeout that elapsed, in milliseconds. */
  readonly timeout: number;
  /** Which deadline fired; see {@link TimeoutSource}. */
  readonly source: TimeoutSource;

  /**
   * @param timeout the effective timeout (ms)
   * @param detail a message of your own, or which deadline fired (default `'timeout'`) and the
   * policy's own duration (ms), named when another deadline fired first
   */
  constructor(
    timeout: number,
    detail?: string | { readonly source: TimeoutSource; readonly own?: number },
  ) {
    const source = typeof detail === 'object' ? detail.source : 'timeout';
    const own = typeof detail === 'object' ? detail.own : undefined;
    super(typeof detail === 'string' ? detail : describeTimeout(timeout, source, own), {
      code: 'TIMEOUT',
    });
    this.timeout = timeout;
    this.source = source;
  }
}

function describeTimeout(timeout: number, source: TimeoutSource, own: number | undefined): string {
  const after = `timed out after ${formatMs(timeout)} ms`;
  if (source === 'timeout') return after;
  const mine = own === undefined ? '' : ` (${formatMs(own)} ms)`;
  return `${after}: ${SOURCES[source]} expired before this timeout${mine}`;
}

/**
 * Whole ms from 10 ms up; two significant digits below (0.25 ms stays 0.25). Unlike core's
 * `formatMs` (a tenth of a ms): a sub-millisecond timeout is a configured value worth reading
 * exactly, not a measured one.
 */
function formatMs(ms: number): string {
  if (Number.isInteger(ms) || !Number.isFinite(ms)) return String(ms);
  return ms >= 10 ? String(Math.round(ms)) : String(Number(ms.toPrecision(2)));
}
