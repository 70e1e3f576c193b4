import type { Clock } from '@faultline/clock';
import { reportListenerError } from '@faultline/clock/internal';
import { checkFunction, drawRandom, EventChannel, type Random } from '@faultline/core';
import type { DetectorRegistry } from './detector-registry.js';
import type { HeartbeatMonitorProbeFailureEvent } from './heartbeat-monitor-events.js';
import {
  type HeartbeatMonitorOptions,
  resolveHeartbeatMonitorOptions,
} from './heartbeat-monitor-options.js';

interface Probe {
  readonly controller: AbortController;
  cancelTimeout: () => void;
  /** Aborted by stop()/remove(): its outcome is nobody's business any more. */
  halted: boolean;
}

interface TargetState<T> {
  readonly target: T;
  cancelTimer: (() => void) | undefined;
  /** The probe in flight, kept until it settles, even after stop(): one probe at a time. */
  probe: Probe | undefined;
}

const OWNER = 'HeartbeatMonitor';

function timeoutReason(timeout: number): DOMException {
  return new DOMException(`${OWNER}: probe timed out after ${timeout} ms`, 'TimeoutError');
}

/**
 * Probes each target on its own jittered interval and records a heartbeat in `registry` for
 * every probe that succeeds within `timeout`. Never more than one probe per target is in flight:
 * when the next probe falls due while the previous one has not settled, it is skipped (a probe
 * that ignores its abort signal therefore holds its target's slot until it settles, and the
 * target's phi keeps rising meanwhile, which is the point).
 *
 * Timers are background timers (unref'd); {@link stop} cancels them all and aborts the probes
 * in flight.
 */
export class HeartbeatMonitor<T> {
  readonly interval: number;
  readonly timeout: number;
  readonly jitter: number;
  readonly #probe: (target: T, signal: AbortSignal) => PromiseLike<unknown> | unknown;
  readonly #registry: DetectorRegistry<T>;
  readonly #clock: Clock;
  readonly #random: Random;
  #reportedRandom = false;
  readonly #targets = new Map<T, TargetState<T>>();
  /** Removed targets whose probe has not settled yet: re-adding one waits for it. */
  readonly #draining = new Map<T, TargetState<T>>();
  readonly #failure = new EventChannel<HeartbeatMonitorProbeFailureEvent<T>>();
  #running = false;

  /** Validates `options` (see {@link resolveHeartbeatMonitorOptions}). */
  constructor(options: HeartbeatMonitorOptions<T>) {
    const resolved = resolveHeartbeatMonitorOptions(options);
    this.#probe = resolved.probe;
    this.#registry = resolved.registry;
    this.interval = resolved.interval;
    this.timeout = resolved.timeout;
    this.jitter = resolved.jitter;
    this.#clock = resolved.clock;
    this.#random = resolved.random;
    for (const target of resolved.targets) {
      this.#targets.set(target, { target, cancelTimer: undefined, probe: undefined });
    }
  }

  /** Whether the monitor is running. */
  get running(): boolean {
    return this.#running;
  }

  /** The monitored targets. */
  get targets(): T[] {
    return [...this.#targets.keys()];
  }

  /** How many probes are in flight (at most one per target). */
  get inFlight(): number {
    let count = 0;
    for (const state of this.#targets.values()) if (state.probe !== undefined) count++;
    return count;
  }

  /** Called with `(target, error)` when a probe fails or times out. Returns an unsubscribe function. */
  onProbeFailure(listener: (target: T, error: unknown) => void): () => void {
    checkFunction(OWNER, 'onProbeFailure listener', listener);
    return this.#failure.subscribe((event) => listener(event.target, event.error));
  }

  /**
   * Starts probing. Each target's first probe comes after a random fraction of `interval`, so
   * that targets are spread over the interval. Idempotent.
   */
  start(): void {
    if (this.#running) return;
    // Each first phase is drawn before anything starts: a broken random source fails here, in
    // the caller's hands (drawRandom), rather than in a background timer.
    const phases = [...this.#targets.values()].map(
      (state) => [state, drawRandom(this.#random, OWNER) * this.interval] as const,
    );
    this.#running = true;
    for (const [state, phase] of phases) this.#arm(state, phase);
  }

  /** Stops probing: cancels every timer and aborts the probes in flight. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const state of this.#targets.values()) this.#halt(state);
  }

  /** Adds a target (probed from now on if the monitor is running). `false` if already present. */
  add(target: T): boolean {
    if (this.#targets.has(target)) return false;
    // A probe of a removed target may still be running: keep its slot, one probe at a time.
    const state: TargetState<T> = this.#draining.get(target) ?? {
      target,
      cancelTimer: undefined,
      probe: undefined,
    };
    this.#draining.delete(target);
    this.#targets.set(target, state);
    if (this.#running) this.#arm(state, drawRandom(this.#random, OWNER) * this.interval);
    return true;
  }

  /**
   * Stops probing a target and aborts its probe in flight. Its detector stays in the registry
   * (call `registry.remove(target)` to forget it too).
   */
  remove(target: T): boolean {
    const state = this.#targets.get(target);
    if (state === undefined) return false;
    this.#targets.delete(target);
    this.#halt(state);
    if (state.probe !== undefined) this.#draining.set(target, state);
    return true;
  }

  #halt(state: TargetState<T>): void {
    state.cancelTimer?.();
    state.cancelTimer = undefined;
    const probe = state.probe;
    if (probe !== undefined) {
      probe.cancelTimeout();
      probe.halted = true;
      probe.controller.abort(new DOMException(`${OWNER}: stopped`, 'AbortError'));
    }
  }

  #arm(state: TargetState<T>, delay: number): void {
    state.cancelTimer = this.#clock.setTimer(delay, () => this.#tick(state), { unref: true });
  }

  #tick(state: TargetState<T>): void {
    const spread = this.jitter * (2 * this.#backgroundDraw() - 1);
    this.#arm(state, this.interval * (1 + spread));
    if (state.probe === undefined) this.#launch(state);
  }

  /**
   * A draw inside a timer, where throwing would crash the process: a source that breaks after
   * start() is reported once and the draw taken as 0.5 (no jitter), never as a NaN delay (a
   * timer of NaN ms fires at once: a probe storm).
   */
  #backgroundDraw(): number {
    try {
      return drawRandom(this.#random, OWNER);
    } catch (error) {
      if (!this.#reportedRandom) {
        this.#reportedRandom = true;
        reportListenerError(error);
      }
      return 0.5;
    }
  }

  #launch(state: TargetState<T>): void {
    const controller = new AbortController();
    const signal = controller.signal;
    const timeout = this.timeout;
    const probe: Probe = {
      controller,
      halted: false,
      cancelTimeout: this.#clock.setTimer(timeout, () => controller.abort(timeoutReason(timeout)), {
        unref: true,
      }),
    };
    state.probe = probe;
    const settle = (ok: boolean, error: unknown): void => {
      probe.cancelTimeout();
      if (state.probe === probe) {
        state.probe = undefined;
        if (this.#draining.get(state.target) === state) this.#draining.delete(state.target);
      }
      // A late answer (after the timeout or stop) is not a heartbeat: the target was silent when
      // it mattered, and a stopped monitor must not touch the registry.
      if (ok && !signal.aborted) {
        try {
          this.#registry.heartbeat(state.target);
        } catch (failure) {
          // A broken detector factory: surface it instead of leaving an unhandled rejection.
          if (this.#failure.hasListeners)
            this.#failure.emit({ target: state.target, error: failure });
          else
            queueMicrotask(() => {
              throw failure;
            });
        }
      } else if (!probe.halted && this.#failure.hasListeners) {
        this.#failure.emit({ target: state.target, error: ok ? signal.reason : error });
      }
    };
    let result: PromiseLike<unknown> | unknown;
    try {
      result = this.#probe(state.target, signal);
    } catch (error) {
      settle(false, error);
      return;
    }
    Promise.resolve(result).then(
      () => settle(true, undefined),
      (error: unknown) => settle(false, error),
    );
  }
}
