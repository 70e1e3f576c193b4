import type { ProgressMode } from './args.js';

/**
 * Progress on stderr: a one-line bar redrawn in place on a terminal (`bar`), or plain lines
 * (`lines`: at the start, about every 10 % or 5 s, and at the end, for logs and pipes), or
 * nothing. `auto` is a bar on a terminal and nothing elsewhere, so piped output stays clean.
 */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #mode: 'bar' | 'lines' | 'none';
  #last = 0;
  #lastDone = 0;
  #started = 0;
  #label = '';

  constructor(stream: NodeJS.WriteStream, mode: ProgressMode = 'auto') {
    this.#stream = stream;
    this.#mode = mode === 'auto' ? (stream.isTTY === true ? 'bar' : 'none') : mode;
  }

  /** A new task of `total` runs: drawn at once with its real count. */
  start(label: string, total: number): void {
    this.#label = label;
    this.#last = performance.now();
    this.#started = this.#last;
    this.#lastDone = 0;
    if (this.#mode === 'bar') this.#draw(0, total);
    else if (this.#mode === 'lines') this.#stream.write(`${label}: ${total} runs…\n`);
  }

  update(done: number, total: number): void {
    if (this.#mode === 'none') return;
    const now = performance.now();
    if (this.#mode === 'bar') {
      if (done < total && now - this.#last < 100) return;
      this.#last = now;
      this.#draw(done, total);
      return;
    }
    const step = Math.max(1, Math.ceil(total / 10));
    if (done < total && done - this.#lastDone < step && now - this.#last < 5000) return;
    if (done === this.#lastDone) return;
    this.#last = now;
    this.#lastDone = done;
    if (done < total) this.#stream.write(`${this.#label}: ${done}/${total} runs\n`);
  }

  done(): void {
    if (this.#mode === 'bar') this.#stream.write('\r\x1b[K');
    else if (this.#mode === 'lines') {
      const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
      this.#stream.write(`${this.#label}: done in ${seconds} s\n`);
    }
  }

  #draw(done: number, total: number): void {
    const width = 30;
    const filled = Math.round((done / Math.max(1, total)) * width);
    const percent = Math.floor((done / Math.max(1, total)) * 100);
    this.#stream.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${this.#label} ${done}/${total} runs\x1b[K`,
    );
  }
}
