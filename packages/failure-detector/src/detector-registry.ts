import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  checkNumber,
  checkOptions,
  EventChannel,
  formatValue,
  identify,
  optionalClock,
  optionalNumber,
  type PolicyIdentity,
  publishEvent,
  telemetry,
} from '@faultline/core';
import type { FailureDetector } from './failure-detector.js';

/** Options of {@link DetectorRegistry}. */
export interface DetectorRegistryOptions {
  /** Drives the {@link DetectorRegistry.watch} timer. Default `systemClock`. */
  readonly clock?: Clock;
  /**
   * The registry's name in telemetry (the peer group it watches, e.g. `'cache-nodes'`). Its
   * `peer-suspected` and `peer-recovered` records never carry a key: peers are unbounded.
   * Default `'failure-detector'`.
   */
  readonly name?: string;
}

/** Options of {@link DetectorRegistry.watch}. */
export interface WatchOptions {
  /** How often every detector is evaluated, ms (> 0). Required. */
  readonly interval: number;
  /**
   * Hysteresis: a suspect recovers only once its phi is below `recoverRatio · threshold`, in
   * (0, 1]. Default 0.5. 1 disables hysteresis.
   */
  readonly recoverRatio?: number;
}

interface SuspectEvent<K> {
  readonly key: K;
  readonly phi: number;
}

const OWNER = 'DetectorRegistry';

/**
 * One failure detector per peer, created on the peer's first heartbeat by a factory, as Akka's
 * `DefaultFailureDetectorRegistry`. A peer the registry has never heard of is available.
 *
 * {@link watch} evaluates every detector on a background timer and reports threshold crossings
 * through {@link onSuspect} and {@link onRecover}, with hysteresis:
 * - a peer becomes a **suspect** at an evaluation where `phi >= threshold` (its detector says
 *   unavailable);
 * - a suspect **recovers** at an evaluation where `phi < recoverRatio · threshold` (default half
 *   the threshold).
 *
 * phi only grows between heartbeats and falls when one arrives, so the band matters when an
 * evaluation catches a peer whose heartbeat came late: it stays suspect until its phi is clearly
 * back below the threshold, instead of flapping between suspect and recovered on every
 * evaluation while it hovers around it.
 */
export class DetectorRegistry<K = string> {
  readonly #factory: (key: K) => FailureDetector;
  readonly #clock: Clock;
  readonly #detectors = new Map<K, FailureDetector>();
  readonly #suspected = new Set<K>();
  readonly #suspect = new EventChannel<SuspectEvent<K>>();
  readonly #recover = new EventChannel<K>();
  readonly #identity: PolicyIdentity;
  #recoverRatio = 0.5;
  #cancelTimer: (() => void) | undefined;
  #watchId = 0;

  /** @param factory creates the detector for a key on its first heartbeat. */
  constructor(factory: (key: K) => FailureDetector, options?: DetectorRegistryOptions) {
    this.#factory = checkFunction<(key: K) => FailureDetector>(OWNER, 'factory', factory);
    const o = checkOptions<DetectorRegistryOptions>(OWNER, options);
    // The failure detectors ask for now() and setTimer() (none of them sleeps).
    this.#clock = optionalClock(OWNER, 'clock', o.clock, ['now', 'setTimer']);
    this.#identity = identify(OWNER, 'failure-detector', o.name);
  }

  /** The registry's name in telemetry (option `name`, default `'failure-detector'`). */
  get name(): string {
    return this.#identity.name;
  }

  /** Records a heartbeat from `key`, creating its detector on the first one. */
  heartbeat(key: K): void {
    let detector = this.#detectors.get(key);
    if (detector === undefined) {
      detector = this.#factory(key);
      if (
        detector === null ||
        typeof detector !== 'object' ||
        typeof detector.heartbeat !== 'function' ||
        typeof detector.phi !== 'function'
      ) {
        throw new TypeError(
          `${OWNER}: the factory must return a FailureDetector, received ${formatValue(detector)}`,
        );
      }
      this.#detectors.set(key, detector);
    }
    detector.heartbeat();
  }

  /** The suspicion level of `key`; 0 for an unknown key. */
  phi(key: K): number {
    const detector = this.#detectors.get(key);
    return detector === undefined ? 0 : detector.phi();
  }

  /** Whether `key` is considered available now; `true` for an unknown key. */
  isAvailable(key: K): boolean {
    const detector = this.#detectors.get(key);
    return detector === undefined || detector.isAvailable();
  }

  /** Whether `key` has sent at least one heartbeat (and was not removed since). */
  isMonitoring(key: K): boolean {
    return this.#detectors.get(key)?.isMonitoring === true;
  }

  /** The detector of `key`, if it has one. */
  get(key: K): FailureDetector | undefined {
    return this.#detectors.get(key);
  }

  /** Forgets `key` (no recover event). Its next heartbeat starts a fresh detector. */
  remove(key: K): boolean {
    this.#suspected.delete(key);
    return this.#detectors.delete(key);
  }

  /** Forgets every key. */
  clear(): void {
    this.#suspected.clear();
    this.#detectors.clear();
  }

  /** Keys with a detector. */
  keys(): K[] {
    return [...this.#detectors.keys()];
  }

  get size(): number {
    return this.#detectors.size;
  }

  /** Keys whose detector considers them unavailable right now (no hysteresis). */
  suspects(): K[] {
    const out: K[] = [];
    for (const [key, detector] of this.#detectors) {
      if (!detector.isAvailable()) out.push(key);
    }
    return out;
  }

  /** Called with `(key, phi)` when a key becomes a suspect. Returns an unsubscribe function. */
  onSuspect(listener: (key: K, phi: number) => void): () => void {
    checkFunction(OWNER, 'onSuspect listener', listener);
    return this.#suspect.subscribe((event) => listener(event.key, event.phi));
  }

  /** Called with `key` when a suspect recovers. Returns an unsubscribe function. */
  onRecover(listener: (key: K) => void): () => void {
    checkFunction(OWNER, 'onRecover listener', listener);
    return this.#recover.subscribe(listener);
  }

  /**
   * One evaluation pass, as {@link watch} runs it: emits `onSuspect` / `onRecover` for every
   * crossing since the previous pass (hysteresis rule in the class description).
   */
  evaluate(): void {
    for (const [key, detector] of this.#detectors) {
      const level = detector.phi();
      if (this.#suspected.has(key)) {
        if (level < this.#recoverRatio * detector.threshold) {
          this.#suspected.delete(key);
          this.#recover.emit(key);
          if (telemetry.hasSubscribers) this.#publish('peer-recovered', level);
        }
      } else if (level >= detector.threshold) {
        this.#suspected.add(key);
        this.#suspect.emit({ key, phi: level });
        if (telemetry.hasSubscribers) this.#publish('peer-suspected', level);
      }
    }
  }

  #publish(event: 'peer-suspected' | 'peer-recovered', phi: number): void {
    // An evaluation belongs to no call: no pipeline or operation labels.
    publishEvent(this.#identity, undefined, event, this.#clock.now(), undefined, { phi });
  }

  /** Whether a {@link watch} is running. */
  get watching(): boolean {
    return this.#cancelTimer !== undefined;
  }

  /**
   * Evaluates every detector each `interval` ms on a background (unref'd) timer, emitting
   * suspect/recover events. Replaces a previous watch. Returns a function that stops it (and
   * leaves no timer behind).
   */
  watch(options: WatchOptions): () => void {
    const owner = `${OWNER}.watch`;
    const o = checkOptions<WatchOptions>(owner, options);
    const interval = checkNumber(owner, 'interval', o.interval, { min: 0, minExclusive: true });
    const recoverRatio = optionalNumber(owner, 'recoverRatio', o.recoverRatio, 0.5, {
      min: 0,
      minExclusive: true,
      max: 1,
    });
    this.unwatch();
    this.#recoverRatio = recoverRatio;
    const id = ++this.#watchId;
    const tick = (): void => {
      // Re-arm first: a throwing custom detector must not stop the watch.
      this.#cancelTimer = this.#clock.setTimer(interval, tick, { unref: true });
      this.evaluate();
    };
    this.#cancelTimer = this.#clock.setTimer(interval, tick, { unref: true });
    return () => {
      if (this.#watchId === id) this.unwatch();
    };
  }

  /** Stops the running {@link watch}, if any. Suspect state is kept for the next watch. */
  unwatch(): void {
    const cancel = this.#cancelTimer;
    this.#cancelTimer = undefined;
    this.#watchId++;
    cancel?.();
  }
}
