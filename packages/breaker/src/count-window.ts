import type { OutcomeWindow } from './outcome-window.js';

const FAILED = 1;
const SLOW = 2;

/**
 * The outcomes of the last `size` calls (resilience4j's count-based sliding window): a ring of
 * one byte per slot, plus running totals, so memory is `size` bytes whatever the traffic.
 */
export class CountWindow implements OutcomeWindow {
  readonly needsTime = false;
  readonly #ring: Uint8Array;
  #next = 0;
  #calls = 0;
  #failures = 0;
  #slowCalls = 0;

  constructor(size: number) {
    this.#ring = new Uint8Array(size);
  }

  get calls(): number {
    return this.#calls;
  }

  get failures(): number {
    return this.#failures;
  }

  get slowCalls(): number {
    return this.#slowCalls;
  }

  record(failed: boolean, slow: boolean): void {
    const ring = this.#ring;
    const index = this.#next;
    if (this.#calls === ring.length) {
      // Full: the oldest outcome leaves as this one enters.
      const old = ring[index]!;
      if (old & FAILED) this.#failures--;
      if (old & SLOW) this.#slowCalls--;
    } else {
      this.#calls++;
    }
    ring[index] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.#failures++;
    if (slow) this.#slowCalls++;
    this.#next = index + 1 === ring.length ? 0 : index + 1;
  }

  reset(): void {
    this.#ring.fill(0);
    this.#next = 0;
    this.#calls = 0;
    this.#failures = 0;
    this.#slowCalls = 0;
  }
}
