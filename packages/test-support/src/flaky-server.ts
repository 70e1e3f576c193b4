import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 whose behaviour a test scripts: fast, slow, failing, hanging or
 * resetting connections. Its latency can run on the test's clock (a `VirtualClock`'s `sleep`), so
 * a pipeline's timeouts and the server's answers share one timeline while the bytes still cross a
 * real socket.
 */

/** What the server does with the next requests (see {@link FlakyServer.behave}). */
export type FlakyBehaviour =
  /** Answers `status` (default 200) with `body` after `latency` ms of the test's clock. */
  | {
      readonly kind: 'answer';
      readonly status?: number;
      readonly latency?: number;
      readonly body?: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** Never answers (until the client goes away). */
  | { readonly kind: 'hang' }
  /** Destroys the connection without an answer. */
  | { readonly kind: 'reset' };

/** One request the server received. */
export interface FlakyRequest {
  /** `now()` of the server's clock when it arrived. */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  /** What the server did: the status it answered, `'hang'` or `'reset'`. */
  readonly outcome: number | 'hang' | 'reset';
}

export interface FlakyServerOptions {
  /** Waits `ms` on the test's clock; default: real time (`setTimeout`). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The test's clock, for {@link FlakyRequest.at}; default `performance.now()`. */
  readonly now?: () => number;
  /**
   * Request header naming a request in flight, so that a test driving virtual time can tell
   * whether every request it sent is waiting on that time ({@link FlakyServer.waiting}).
   * Default `x-flaky-id`.
   */
  readonly idHeader?: string;
  /** Initial behaviour. Default `{ kind: 'answer', status: 200, latency: 0 }`. */
  readonly behaviour?: FlakyBehaviour;
}

export interface FlakyServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every request received, in order of arrival. */
  readonly requests: readonly FlakyRequest[];
  /** Changes what the server does with requests that arrive from now on. */
  behave(behaviour: FlakyBehaviour): void;
  /**
   * Whether the request with this id (see {@link FlakyServerOptions.idHeader}) is at the server
   * and waiting on the test's clock (its latency) or hanging: nothing but time can move it.
   */
  waiting(id: string): boolean;
  /** Closes the server and every connection. */
  close(): Promise<void>;
}

const realSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Starts a {@link FlakyServer} on an ephemeral port of 127.0.0.1. */
export async function startFlakyServer(options: FlakyServerOptions = {}): Promise<FlakyServer> {
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? (() => performance.now());
  const idHeader = (options.idHeader ?? 'x-flaky-id').toLowerCase();
  let behaviour: FlakyBehaviour = options.behaviour ?? { kind: 'answer' };
  const requests: FlakyRequest[] = [];
  const waiting = new Set<string>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const current = behaviour;
    const header = req.headers[idHeader];
    const id = typeof header === 'string' ? header : undefined;
    const outcome = current.kind === 'answer' ? (current.status ?? 200) : current.kind;
    requests.push({ at: now(), method: req.method ?? 'GET', path: req.url ?? '/', outcome });
    // Drain the request body: a client must not be stuck writing it.
    req.resume();
    if (current.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const gone = new AbortController();
    res.once('close', () => {
      gone.abort();
      if (id !== undefined) waiting.delete(id);
    });
    if (current.kind === 'hang') {
      if (id !== undefined) waiting.add(id);
      return;
    }
    const latency = current.latency ?? 0;
    if (latency > 0) {
      if (id !== undefined) waiting.add(id);
      await sleep(latency, gone.signal).catch(() => {}); // the client went away
      if (id !== undefined) waiting.delete(id);
      if (gone.signal.aborted) return;
    }
    res.writeHead(outcome as number, { 'content-type': 'text/plain', ...current.headers });
    res.end(current.body ?? (outcome === 200 ? 'ok' : `status ${outcome}`));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    behave(next) {
      behaviour = next;
    },
    waiting: (id) => waiting.has(id),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
