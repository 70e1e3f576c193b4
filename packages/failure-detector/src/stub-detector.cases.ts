/**
 * A failure detector whose phi the test sets (`level`), for the registry's tests: it counts its
 * heartbeats and monitors from the first one, like the real detectors. Test support, not packed.
 */
import type { FailureDetector } from './failure-detector.js';

export class StubDetector implements FailureDetector {
  readonly threshold = 8;
  level = 0;
  heartbeats = 0;
  get isMonitoring(): boolean {
    return this.heartbeats > 0;
  }
  heartbeat(): void {
    this.heartbeats++;
  }
  phi(): number {
    return this.level;
  }
  isAvailable(): boolean {
    return this.level < this.threshold;
  }
  timeUntilUnavailable(): number {
    return 0;
  }
}
