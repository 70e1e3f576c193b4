import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** What the flaky server does with one request. */
export type Behaviour = 'ok' | 'fail' | 'hang';

/**
 * A local HTTP server on loopback that answers requests in the order they arrive from a script:
 * `ok` is 200, `fail` 503, `hang` never answers (until the client gives up). Past the script it
 * answers 200. Counts the requests it received.
 */
export class FlakyServer {
  readonly #server: Server;
  #script: Behaviour[] = [];
  requests = 0;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      this.requests++;
      req.resume();
      const behaviour = this.#script.shift() ?? 'ok';
      if (behaviour === 'hang') return; // closed by the client's abort, or by close()
      res.writeHead(behaviour === 'ok' ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(behaviour);
    });
  }

  /** Queues behaviours for the next requests. */
  script(...behaviours: Behaviour[]): void {
    this.#script.push(...behaviours);
  }

  get pending(): number {
    return this.#script.length;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A FlakyServer that listens from before the file's first test until after its last. */
export function flakyServerForFile(): FlakyServer {
  const server = new FlakyServer();
  beforeAll(async () => {
    await server.listen();
  });
  afterAll(() => server.close());
  return server;
}

/** A 5xx answer, thrown by the task so that the policies see a failure. */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(
    readonly status: number,
    url: string,
  ) {
    // The URL is in the message on purpose: telemetry must never turn it into a label.
    super(`HTTP ${status} from ${url}`);
  }
}

/** GETs `url` with the context's signal; a 5xx is a thrown HttpStatusError. */
export async function get(url: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(url, { signal });
  const text = await response.text();
  if (response.status >= 500) throw new HttpStatusError(response.status, url);
  return text;
}
