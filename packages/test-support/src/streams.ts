/**
 * A pair of stand-in output streams for code that writes to `process.stdout` / `process.stderr`
 * (a CLI's `main(argv, io)`): every chunk written is kept in `out` / `err`, and `isTTY` is
 * `tty` on both (default false, as when piped).
 */
export interface CapturedStreams {
  readonly io: { readonly stdout: NodeJS.WriteStream; readonly stderr: NodeJS.WriteStream };
  /** The chunks written to stdout, in order (`out.join('')` is the whole output). */
  readonly out: string[];
  /** The chunks written to stderr, in order. */
  readonly err: string[];
}

export function captureStreams(tty = false): CapturedStreams {
  const out: string[] = [];
  const err: string[] = [];
  const make = (sink: string[]) =>
    ({
      write: (chunk: string) => {
        sink.push(chunk);
        return true;
      },
      isTTY: tty,
    }) as unknown as NodeJS.WriteStream;
  return { io: { stdout: make(out), stderr: make(err) }, out, err };
}
