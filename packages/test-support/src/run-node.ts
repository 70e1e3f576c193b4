import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChildExitReport } from './child.js';

/**
 * Running Node child processes from tests: the one way every test that spawns Node does it.
 *
 * Children import the built `dist/` of the workspace packages (what a user gets), which the
 * Vitest global setup builds once before any test runs (`tsc -b`, see `build.ts`).
 */

/**
 * "Exits promptly": the most a child may take from its `lastCall()` to its event loop running
 * empty, measured inside the child (so process start-up and teardown, pipe latency and this
 * process's own scheduling are not counted). 200 ms is the quality bar's figure: anything ref'd
 * left behind (a timer, a socket, a listener on a handle) keeps the process alive for the whole
 * delay of that thing, seconds to minutes for what these tests leave armed (60 s queue timeouts
 * and deadlines, lock renewals, probe intervals), so a real leak fails by a wide margin.
 * Measured (45 children after 20 000 timeout calls each, 3 at a time, on this 2-core machine):
 * p50 0.2 ms and max 3 ms idle; p90 25 ms, max 97 ms with 4 CPU burners (load 9); p90 40 ms,
 * max 133 ms with 8 (load 25). The margin absorbs CPU starvation; the deterministic half of the
 * check is `activeAtLastCall` (no ref'd timer at the last call).
 */
export const EXIT_LIMIT_MS = 200;

export interface RunNodeOptions {
  /**
   * ES module source to run, written to a temporary `.mjs` file (removed after the exit), so
   * `process.argv` is the same as with `file`. Give this or `file`.
   */
  readonly script?: string;
  /** A file to run. Give this or `script`. */
  readonly file?: string;
  /** Node flags before the script (e.g. `--expose-gc`). */
  readonly nodeArgs?: readonly string[];
  /** Arguments after the script (`process.argv.slice(2)` in the child). */
  readonly args?: readonly string[];
  readonly cwd?: string;
  /** Added to (not replacing) this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Kill the child (SIGKILL) if it has not exited after this many ms; the run then rejects with
   * what it printed. `runNode`'s default is 60 000 (keep it below the test's own timeout);
   * `startNode`'s is none (a server the test stops; any child left is killed when the test
   * worker exits).
   */
  readonly timeout?: number;
}

export interface NodeRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock ms from spawn to exit, as this process saw it. */
  readonly durationMs: number;
  /**
   * Present when the child called `lastCall()` and then ran out of work on its own (see
   * `child.ts`); absent after `process.exit()`, a crash, or no `lastCall()`.
   */
  readonly exit: ChildExitReport | undefined;
}

/** A started child: the process, its output so far, and a promise of its end. */
export interface NodeChild {
  readonly process: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the child has exited and its pipes are closed. */
  readonly done: Promise<NodeRun>;
  /** Resolves with the first stdout match of `pattern` (rejects if the child exits first). */
  waitFor(pattern: RegExp, timeout?: number): Promise<RegExpExecArray>;
  /** SIGKILL (or `signal`) and wait for the end. */
  stop(signal?: NodeJS.Signals): Promise<NodeRun>;
}

const preload = new URL('./child.js', import.meta.url);
// From the sources (Vitest), the preload is the built one: Node cannot --import a .ts file.
const preloadUrl = preload.pathname.includes('/src/')
  ? new URL('../dist/child.js', import.meta.url).href
  : preload.href;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function collect(stream: Readable | null, sink: (text: string) => void): void {
  stream?.setEncoding('utf8').on('data', sink);
}

/** Starts Node on `options.script` or `options.file` (for servers a test talks to). */
export function startNode(options: RunNodeOptions): NodeChild {
  if ((options.script === undefined) === (options.file === undefined)) {
    throw new TypeError('startNode: give exactly one of "script" and "file"');
  }
  let scratch: string | undefined;
  let file = options.file;
  if (options.script !== undefined) {
    scratch = mkdtempSync(join(tmpdir(), 'faultline-node-'));
    file = join(scratch, 'script.mjs');
    writeFileSync(file, options.script);
  }
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [`--import=${preloadUrl}`, ...(options.nodeArgs ?? []), file!, ...(options.args ?? [])],
    {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  let stdout = '';
  let stderr = '';
  let report = '';
  const stdoutListeners = new Set<() => void>();
  collect(child.stdout, (text) => {
    stdout += text;
    for (const listener of stdoutListeners) listener();
  });
  collect(child.stderr, (text) => {
    stderr += text;
  });
  collect(child.stdio[3] as Readable | null, (text) => {
    report += text;
  });
  const timeout = options.timeout;
  let timedOut = false;
  const guard =
    timeout === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeout);
  const name = options.file ?? 'the script';
  const done = new Promise<NodeRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      running.delete(child);
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
      if (timedOut) {
        reject(
          new Error(
            `${name} did not exit within ${timeout} ms (killed)\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
          ),
        );
        return;
      }
      const line = report.split('\n').find((text) => text !== '');
      resolve({
        code,
        signal,
        stdout,
        stderr,
        durationMs: performance.now() - started,
        exit: line === undefined ? undefined : (JSON.parse(line) as ChildExitReport),
      });
    });
  });
  // A test that only uses waitFor() and stop() must not see an unhandled rejection.
  done.catch(() => {});
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitFor(pattern, waitTimeout = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stdout);
          if (match !== null) finish(() => resolve(match));
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(
                  `${name}: no ${pattern} on stdout within ${waitTimeout} ms:\n${stdout}${stderr}`,
                ),
              ),
            ),
          waitTimeout,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          stdoutListeners.delete(check);
          settle();
        };
        stdoutListeners.add(check);
        done.then(
          () =>
            finish(() =>
              reject(new Error(`${name} exited before printing ${pattern}:\n${stdout}${stderr}`)),
            ),
          (error: unknown) => finish(() => reject(error)),
        );
        check();
      });
    },
    stop(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return done;
    },
  };
}

/** Runs Node on `options.script` or `options.file` to its end. */
export function runNode(options: RunNodeOptions): Promise<NodeRun> {
  return startNode({ ...options, timeout: options.timeout ?? 60_000 }).done;
}

/**
 * Why a run did not exit promptly, or `undefined` when it did: it exited with code 0 on its own
 * (no `process.exit()`) within `EXIT_LIMIT_MS` of its `lastCall()`.
 */
export function promptExitProblem(run: NodeRun, limit = EXIT_LIMIT_MS): string | undefined {
  if (run.code !== 0) return `exit code ${run.code} (signal ${run.signal}); stderr: ${run.stderr}`;
  if (run.exit === undefined) {
    return 'no exit report: the child never called lastCall(), or ended by process.exit()';
  }
  if (run.exit.drainMs >= limit) {
    return `the event loop ran empty ${run.exit.drainMs.toFixed(1)} ms after lastCall() (limit ${limit} ms); ref'd at lastCall(): ${JSON.stringify(run.exit.activeAtLastCall)}`;
  }
  return undefined;
}
