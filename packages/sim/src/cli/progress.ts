/** A one-line progress bar on a TTY stream; silent elsewhere (pipes, CI logs). */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  #last = 0;
  #label = '';

  constructor(stream: NodeJS.WriteStream) {
    this.#stream = stream;
    this.#enabled = stream.isTTY === true;
  }

  start(label: string): void {
    this.#label = label;
    this.#last = 0;
    this.update(0, 1);
  }

  update(done: number, total: number): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (done < total && now - this.#last < 100) return;
    this.#last = now;
    const width = 30;
    const filled = Math.round((done / Math.max(1, total)) * width);
    const percent = Math.floor((done / Math.max(1, total)) * 100);
    this.#stream.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${this.#label} ${done}/${total} runs\x1b[K`,
    );
  }

  done(): void {
    if (this.#enabled) this.#stream.write('\r\x1b[K');
  }
}
