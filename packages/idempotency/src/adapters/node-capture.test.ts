import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BodyCapture } from '../capture.js';
import type { ExecutionToken } from '../execution-token.js';
import type { Idempotency } from '../server-types.js';
import { captureResponse } from './node-common.js';

/** A stub core recording what `complete` stored. */
function recorder() {
  const completed: { status: number; body: string }[] = [];
  const idempotency = {
    complete: (_token: unknown, response: { status: number; body: Uint8Array }) => {
      completed.push({ status: response.status, body: Buffer.from(response.body).toString() });
      return Promise.resolve();
    },
    disconnected: () => {},
    interrupt: () => Promise.resolve(),
    release: () => Promise.resolve(),
  } as unknown as Idempotency;
  const token = { capture: () => new BodyCapture(1024) } as unknown as ExecutionToken;
  return { completed, idempotency, token };
}

/** A response whose chain is `app response → shared → ServerResponse.prototype`, as Express's. */
function expressShaped(shared: object): ServerResponse {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  Object.setPrototypeOf(res, Object.create(shared));
  return res;
}

describe('captureResponse through a response prototype', () => {
  it('wraps the shared prototype once, adds nothing to the response, passes others through', () => {
    const shared = Object.create(ServerResponse.prototype);
    const { completed, idempotency, token } = recorder();
    const res = expressShaped(shared);
    captureResponse(res, idempotency, token, true);
    expect(['writeHead', 'write', 'end'].filter((name) => Object.hasOwn(res, name))).toEqual([]);
    expect(Object.hasOwn(shared, 'end')).toBe(true);
    res.statusCode = 201;
    res.write('a');
    res.end('b');
    expect(completed).toEqual([{ status: 201, body: 'ab' }]);
    // Not captured: the same wrappers pass straight through.
    const other = expressShaped(shared);
    other.end('c');
    expect(other.writableEnded).toBe(true);
    expect(completed).toHaveLength(1);
  });

  it('falls back to the response itself when the prototype is frozen', () => {
    const shared = Object.freeze(Object.create(ServerResponse.prototype));
    const { completed, idempotency, token } = recorder();
    const res = expressShaped(shared);
    captureResponse(res, idempotency, token, true);
    expect(Object.hasOwn(res, 'end')).toBe(true);
    res.end('x');
    expect(completed).toEqual([{ status: 200, body: 'x' }]);
  });

  it('wraps the response itself for a plain Node response (no prototype in between)', () => {
    const { completed, idempotency, token } = recorder();
    const { writeHead, write, end } = ServerResponse.prototype;
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    captureResponse(res, idempotency, token, true);
    expect(Object.hasOwn(res, 'end')).toBe(true);
    // ServerResponse.prototype is never touched.
    expect([ServerResponse.prototype.writeHead, ServerResponse.prototype.write]).toEqual([
      writeHead,
      write,
    ]);
    expect(ServerResponse.prototype.end).toBe(end);
    res.end('y');
    expect(completed).toEqual([{ status: 200, body: 'y' }]);
  });
});
