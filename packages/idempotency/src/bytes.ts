/**
 * Small private copies of byte arrays, carved out of shared 8 KiB slabs (what Node's `Buffer`
 * pool does, without `node:buffer`, so the browser-safe core can use it). A typed array with an
 * `ArrayBuffer` of its own costs ~200 bytes of heap and an array-buffer extension the GC tracks
 * one by one; a view into a slab costs one object. The memory store keeps a copy of every
 * response body for `recordTtl`, so this is most of a small record.
 *
 * A view's `.buffer` is the whole slab: read it through `byteOffset`/`byteLength` (every
 * consumer here does). A slab lives as long as any view into it.
 */
const SLAB_BYTES = 8 * 1024;
/** Larger copies get an `ArrayBuffer` of their own. */
const MAX_SLAB_COPY = 512;

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/** A private copy of `source` (never a view of the caller's memory). @internal */
export function copyBytes(source: Uint8Array): Uint8Array {
  const length = source.length;
  if (length === 0 || length > MAX_SLAB_COPY) return new Uint8Array(source);
  if (used + length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const copy = slab.subarray(used, used + length);
  copy.set(source);
  // 8-byte aligned, like Buffer's pool: views stay aligned for whoever reads them.
  used = (used + length + 7) & ~7;
  return copy;
}
