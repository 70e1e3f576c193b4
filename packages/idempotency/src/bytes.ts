/**
 * Small private copies of byte arrays, carved out of shared 8 KiB slabs (what Node's `Buffer`
 * pool does, without `node:buffer`, so the browser-safe core can use it). A typed array with an
 * `ArrayBuffer` of its own costs ~200 bytes of heap and an array-buffer extension the GC tracks
 * one by one; a view into a slab costs one object, and an offset into it none. The memory store
 * keeps a copy of every response body for `recordTtl`, as an offset (see {@link ByteSlabs}).
 *
 * A view's `.buffer` is the whole slab: read it through `byteOffset`/`byteLength` (every
 * consumer here does). A slab lives as long as any view into it.
 */
const SLAB_BYTES = 8 * 1024;
/** Larger copies get an `ArrayBuffer` of their own. */
const MAX_SLAB_COPY = 512;
const EMPTY = new Uint8Array(0);

/**
 * Copies small byte arrays into shared slabs. {@link copy} returns where the copy starts, in
 * {@link array}: a holder that keeps `(array, offset, length)` needs no view object per copy
 * (the memory store holds every stored body that way for `recordTtl`).
 * @internal
 */
export class ByteSlabs {
  // No slab until the first copy: a store that never completes a request holds none.
  #slab = EMPTY;
  #used = SLAB_BYTES;
  /** The array the last {@link copy} went to (a slab, or an array of its own when large). */
  array: Uint8Array = EMPTY;

  /** Copies `source`; returns its offset in {@link array}. */
  copy(source: Uint8Array): number {
    const length = source.length;
    if (length === 0) {
      this.array = EMPTY;
      return 0;
    }
    if (length > MAX_SLAB_COPY) {
      this.array = new Uint8Array(source);
      return 0;
    }
    if (this.#used + length > SLAB_BYTES) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
    }
    const offset = this.#used;
    const slab = this.#slab;
    slab.set(source, offset);
    // 8-byte aligned, like Buffer's pool: views stay aligned for whoever reads them.
    this.#used = (offset + length + 7) & ~7;
    this.array = slab;
    return offset;
  }
}

const shared = new ByteSlabs();

/** A private copy of `source` (never a view of the caller's memory). @internal */
export function copyBytes(source: Uint8Array): Uint8Array {
  const length = source.length;
  if (length === 0 || length > MAX_SLAB_COPY) return new Uint8Array(source);
  const offset = shared.copy(source);
  return shared.array.subarray(offset, offset + length);
}
