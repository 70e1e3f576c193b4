import type { Clock } from '@faultline/clock';
import {
  checkFunction,
  EventChannel,
  formatValue,
  identify,
  type PolicyIdentity,
  publishEvent,
  telemetry,
} from '@faultline/core';
import type {
  DetectorRegistryRecoverEvent,
  DetectorRegistrySuspectEvent,
} from './detector-registry-events.js';
import {
  DETECTOR_REGISTRY_DEFAULTS,
  type DetectorRegistryOptions,
  resolveDetectorRegistryOptions,
  resolveWatchOptions,
  type WatchOptions,
} from './detector-registry-options.js';
import type { FailureDetector } from './failure-detector.js';

const OWNER = 'DetectorRegistry';
const KIND = 'failure-detector';

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
  readonly #suspect = new EventChannel<DetectorRegistrySuspectEvent<K>>();
  readonly #recover = new EventChannel<DetectorRegistryRecoverEvent<K>>();
  readonly #identity: PolicyIdentity;
  #recoverRatio: number = DETECTOR_REGISTRY_DEFAULTS.recoverRatio;
  #cancelTimer: (() => void) | undefined;
  #watchId = 0;

  /**
   * @param factory creates the detector for a key on its first heartbeat. Validates both
   * arguments (see {@link resolveDetectorRegistryOptions}).
   */
  constructor(factory: (key: K) => FailureDetector, options?: DetectorRegistryOptions) {
    const resolved = resolveDetectorRegistryOptions(factory, options);
    this.#factory = resolved.factory;
    this.#clock = resolved.clock;
    this.#identity = identify(OWNER, KIND, resolved.name);
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
    return this.#recover.subscribe((event) => listener(event.key));
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
          if (this.#recover.hasListeners) this.#recover.emit({ key });
          if (telemetry.hasSubscribers) this.#publish('peer-recovered', level);
        }
      } else if (level >= detector.threshold) {
        this.#suspected.add(key);
        if (this.#suspect.hasListeners) this.#suspect.emit({ key, phi: level });
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
    const { interval, recoverRatio } = resolveWatchOptions(options);
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
