import { copyBytes } from './bytes.js';

/**
 * Collects a response body as it is written, up to `limit` bytes. Past the limit it drops what it
 * holds and only counts, so a huge or endless stream costs no memory (behaviour rows 18, 19).
 */
export class BodyCapture {
  readonly limit: number;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #omitted = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes seen so far, including dropped ones. */
  get size(): number {
    return this.#size;
  }

  /** Whether the body outgrew the limit. */
  get omitted(): boolean {
    return this.#omitted;
  }

  /** Records a chunk (copied: callers may reuse their buffers). */
  push(chunk: Uint8Array): void {
    if (this.#count(chunk)) this.#chunks.push(copyBytes(chunk));
  }

  /**
   * Records a chunk nobody else holds (the adapter just encoded it from a string), without
   * copying it.
   */
  pushOwned(chunk: Uint8Array): void {
    if (this.#count(chunk)) this.#chunks.push(chunk);
  }

  /** Counts `chunk`; whether to keep it. */
  #count(chunk: Uint8Array): boolean {
    this.#size += chunk.length;
    if (this.#omitted) return false;
    if (this.#size > this.limit) {
      this.#omitted = true;
      this.#chunks = [];
      return false;
    }
    return chunk.length > 0;
  }

  /** The captured bytes (empty when omitted). */
  bytes(): Uint8Array {
    if (this.#omitted) return new Uint8Array(0);
    if (this.#chunks.length === 1) return this.#chunks[0]!;
    const out = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}
