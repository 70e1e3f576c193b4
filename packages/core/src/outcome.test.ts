import { describe, expect, it } from 'vitest';
import { rootContext } from './context.js';
import {
  handleAll,
  handleErrors,
  handleNone,
  handleResults,
  ignoresResults,
  type Outcome,
  or,
} from './outcome.js';

const ok = (value: unknown): Outcome<unknown> => ({ ok: true, value });
const fail = (error: unknown): Outcome<unknown> => ({ ok: false, error });

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}
/** A thrown class that does not extend Error (some libraries throw these). */
class Plain {
  readonly plain = true;
}

describe('handleAll / handleNone', () => {
  it('handleAll handles every error and no result', () => {
    expect(handleAll(fail(new Error('x')), rootContext)).toBe(true);
    expect(handleAll(fail(undefined), rootContext)).toBe(true);
    expect(handleAll(ok(new Error('a value that is an error')), rootContext)).toBe(false);
  });

  it('handleNone handles nothing', () => {
    expect(handleNone(fail(new Error('x')), rootContext)).toBe(false);
    expect(handleNone(ok(1), rootContext)).toBe(false);
  });
});

describe('handleErrors', () => {
  it('matches classes with instanceof, subclasses included', () => {
    const rule = handleErrors(TypeError, HttpError);
    expect(rule(fail(new TypeError('fetch failed')), rootContext)).toBe(true);
    expect(rule(fail(new HttpError(503)), rootContext)).toBe(true);
    expect(rule(fail(new RangeError('no')), rootContext)).toBe(false);
    expect(rule(fail('a string'), rootContext)).toBe(false);
    expect(handleErrors(Error)(fail(new HttpError(500)), rootContext)).toBe(true);
  });

  it('matches a class that does not extend Error', () => {
    const rule = handleErrors(Plain);
    expect(rule(fail(new Plain()), rootContext)).toBe(true);
    expect(rule(fail({ plain: true }), rootContext)).toBe(false);
  });

  it('calls predicates (arrow and function expressions) with the error', () => {
    const seen: unknown[] = [];
    const rule = handleErrors(
      (e) => {
        seen.push(e);
        return (e as { code?: string }).code === 'ECONNRESET';
      },
      function isTimeout(e) {
        return (e as Error).name === 'TimeoutError';
      },
    );
    const reset = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    expect(rule(fail(reset), rootContext)).toBe(true);
    expect(seen).toEqual([reset]);
    expect(rule(fail(Object.assign(new Error('t'), { name: 'TimeoutError' })), rootContext)).toBe(
      true,
    );
    expect(rule(fail(new Error('other')), rootContext)).toBe(false);
  });

  it('mixes classes and predicates, and never handles a result', () => {
    const rule = handleErrors(HttpError, (e) => e === 'retry me');
    expect(rule(fail('retry me'), rootContext)).toBe(true);
    expect(rule(fail(new HttpError(429)), rootContext)).toBe(true);
    expect(rule(ok(new HttpError(429)), rootContext)).toBe(false);
  });

  it('with no arguments handles every error', () => {
    expect(handleErrors()).toBe(handleAll);
  });

  it('rejects an argument that is neither a class nor a predicate', () => {
    expect(() => handleErrors('TypeError' as never)).toThrow(TypeError);
    expect(() => handleErrors(TypeError, null as never)).toThrow(/handleErrors/);
  });
});

describe('handleResults', () => {
  it('handles results that satisfy the predicate, and no error', () => {
    const rule = handleResults<{ status: number }>((res) => res.status >= 500);
    expect(rule(ok({ status: 503 }), rootContext)).toBe(true);
    expect(rule(ok({ status: 200 }), rootContext)).toBe(false);
    expect(rule(fail(new Error('x')), rootContext)).toBe(false);
  });

  it('rejects a predicate that is not a function', () => {
    expect(() => handleResults(503 as never)).toThrow(TypeError);
  });
});

describe('or', () => {
  it('handles what any rule handles', () => {
    const rule = or(
      handleErrors(TypeError),
      handleResults((v) => v === 'busy'),
    );
    expect(rule(fail(new TypeError('x')), rootContext)).toBe(true);
    expect(rule(ok('busy'), rootContext)).toBe(true);
    expect(rule(ok('fine'), rootContext)).toBe(false);
    expect(rule(fail(new RangeError('x')), rootContext)).toBe(false);
    expect(or()(fail(new Error('x')), rootContext)).toBe(false);
  });

  it('passes the context to each rule', () => {
    const seen: unknown[] = [];
    or((_, ctx) => {
      seen.push(ctx);
      return false;
    })(ok(1), rootContext);
    expect(seen).toEqual([rootContext]);
  });

  it('rejects an argument that is not a function', () => {
    expect(() => or(handleAll, {} as never)).toThrow(TypeError);
  });
});

describe('ignoresResults', () => {
  it('is true only for rules known never to handle a result', () => {
    expect(ignoresResults(handleAll)).toBe(true);
    expect(ignoresResults(handleNone)).toBe(true);
    expect(ignoresResults(handleErrors(TypeError))).toBe(true);
    expect(ignoresResults(or(handleErrors(TypeError), handleAll))).toBe(true);
    expect(ignoresResults(handleResults(() => true))).toBe(false);
    expect(
      ignoresResults(
        or(
          handleAll,
          handleResults(() => true),
        ),
      ),
    ).toBe(false);
    expect(ignoresResults((outcome) => !outcome.ok)).toBe(false);
  });
});
