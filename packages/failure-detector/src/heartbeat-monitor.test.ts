import { type Clock, VirtualClock } from '@faultline/clock';
import { seededRandom } from '@faultline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DetectorRegistry } from './detector-registry.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import type { HeartbeatMonitorOptions } from './heartbeat-monitor-options.js';
import { PhiAccrualDetector } from './phi-accrual-detector.js';

function setup(clock: VirtualClock) {
  return new DetectorRegistry<string>(
    () =>
      new PhiAccrualDetector({
        clock,
        firstHeartbeatEstimate: 100,
        acceptableHeartbeatPause: 100,
        minStdDeviation: 20,
      }),
    { clock },
  );
}

describe('HeartbeatMonitor (virtual time)', () => {
  it('probes each target on its own jittered interval and records a heartbeat per success', async () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    const times = new Map<string, number[]>();
    const monitor = new HeartbeatMonitor({
      targets: ['a', 'b', 'c'],
      probe: async (target) => {
        const list = times.get(target) ?? [];
        list.push(clock.now());
        times.set(target, list);
      },
      interval: 100,
      jitter: 0.2,
      registry,
      clock,
      random: seededRandom(7),
    });
    expect(monitor.timeout).toBe(100); // defaults to the interval
    monitor.start();
    await clock.advance(10_000);
    monitor.stop();
    const firsts: number[] = [];
    for (const target of ['a', 'b', 'c']) {
      const list = times.get(target)!;
      expect(list.length).toBeGreaterThan(90);
      expect(list.length).toBeLessThan(110);
      firsts.push(list[0]!);
      expect(list[0]).toBeLessThan(100);
      for (let i = 1; i < list.length; i++) {
        const gap = list[i]! - list[i - 1]!;
        expect(gap).toBeGreaterThanOrEqual(80);
        expect(gap).toBeLessThanOrEqual(120);
      }
      expect(registry.isMonitoring(target)).toBe(true);
      expect(registry.get(target)!.isMonitoring).toBe(true);
    }
    // Phases differ (spread over the interval), so probes of different targets do not align.
    expect(new Set(firsts).size).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('records no heartbeat for a failing probe and reports the failure', async () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    const failures: Array<[string, unknown]> = [];
    const boom = new Error('connection refused');
    const monitor = new HeartbeatMonitor({
      targets: ['ok', 'down', 'throws'],
      probe: (target) => {
        if (target === 'throws') throw boom;
        return target === 'ok' ? Promise.resolve() : Promise.reject(boom);
      },
      interval: 50,
      registry,
      clock,
      random: seededRandom(1),
    });
    monitor.onProbeFailure((target, error) => failures.push([target, error]));
    monitor.start();
    await clock.advance(500);
    monitor.stop();
    expect(registry.isMonitoring('ok')).toBe(true);
    expect(registry.isMonitoring('down')).toBe(false);
    expect(registry.isMonitoring('throws')).toBe(false);
    expect(failures.filter(([t]) => t === 'down').length).toBeGreaterThanOrEqual(9);
    expect(failures.filter(([t]) => t === 'throws').length).toBeGreaterThanOrEqual(9);
    expect(failures.every(([t, e]) => t !== 'ok' && e === boom)).toBe(true);
  });

  it('never has more than one probe per target in flight', async () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    let inFlight = 0;
    let maxInFlight = 0;
    let probes = 0;
    const monitor = new HeartbeatMonitor({
      targets: ['slow'],
      probe: async () => {
        probes++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await clock.sleep(350); // slower than the interval, faster than the timeout
        inFlight--;
      },
      interval: 100,
      timeout: 1000,
      registry,
      clock,
      random: seededRandom(3),
    });
    monitor.start();
    for (let t = 0; t < 5000; t += 50) {
      await clock.advance(50);
      expect(monitor.inFlight).toBeLessThanOrEqual(1);
    }
    monitor.stop();
    expect(maxInFlight).toBe(1);
    // One probe per ~350-450 ms: the ticks that fell due while a probe was running were skipped.
    expect(probes).toBeGreaterThan(9);
    expect(probes).toBeLessThan(15);
  });

  it('aborts a probe at its timeout; a late answer is not a heartbeat and holds the slot until it settles', async () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    const reasons: unknown[] = [];
    let started = 0;
    const monitor = new HeartbeatMonitor({
      targets: ['stuck'],
      probe: async (_target, signal) => {
        started++;
        signal.addEventListener('abort', () => reasons.push(signal.reason), { once: true });
        await clock.sleep(500); // ignores the signal
      },
      interval: 100,
      timeout: 150,
      jitter: 0,
      registry,
      clock,
      random: () => 0,
    });
    const failures: unknown[] = [];
    monitor.onProbeFailure((_target, error) => failures.push(error));
    monitor.start();
    await clock.advance(1); // first probe at t = 0
    expect(started).toBe(1);
    await clock.advance(200);
    expect(reasons).toHaveLength(1);
    expect((reasons[0] as DOMException).name).toBe('TimeoutError');
    expect(started).toBe(1); // the slot is still held: ticks at 100 and 200 skipped
    await clock.advance(400); // the stuck probe settles at 500; the next tick (600) starts one
    expect(registry.isMonitoring('stuck')).toBe(false);
    expect(failures).toHaveLength(1);
    expect((failures[0] as DOMException).name).toBe('TimeoutError');
    expect(started).toBe(2);
    monitor.stop();
  });

  it('stop() aborts the probes in flight and leaves no timers; start() resumes', async () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    const signals: AbortSignal[] = [];
    const monitor = new HeartbeatMonitor({
      targets: ['a', 'b'],
      probe: async (_target, signal) => {
        signals.push(signal);
        await clock.sleep(80);
      },
      interval: 100,
      timeout: 90,
      registry,
      clock,
      random: seededRandom(11),
    });
    const failures: unknown[] = [];
    monitor.onProbeFailure((_target, error) => failures.push(error));
    expect(clock.pendingTimers).toBe(0);
    monitor.start();
    monitor.start(); // idempotent
    expect(monitor.running).toBe(true);
    expect(clock.pendingTimers).toBe(2);
    await clock.advance(150);
    expect(monitor.inFlight).toBeGreaterThan(0);
    const pendingProbes = clock.pendingTimers; // tick timers + probe timeouts + probe sleeps
    expect(pendingProbes).toBeGreaterThan(2);
    const heartbeatsBefore = registry.keys().length;
    monitor.stop();
    monitor.stop(); // idempotent
    const live = signals.filter((s) => s.aborted);
    expect(live.length).toBe(monitor.inFlight);
    expect(live.every((s) => (s.reason as DOMException).name === 'AbortError')).toBe(true);
    // Only the probes' own sleeps (test code, not the monitor's) remain; once they settle, nothing.
    await clock.runAll();
    expect(clock.pendingTimers).toBe(0);
    expect(monitor.inFlight).toBe(0);
    expect(failures).toHaveLength(0); // a stopped monitor reports nothing
    expect(registry.keys().length).toBe(heartbeatsBefore); // and records nothing
    monitor.start();
    await clock.advance(300);
    expect(registry.isMonitoring('a')).toBe(true);
    expect(registry.isMonitoring('b')).toBe(true);
    monitor.stop();
    await clock.runAll();
    expect(clock.pendingTimers).toBe(0);
  });

  it('stop() then start() while a probe ignores its abort: no second probe, and its late answer records nothing', async () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    const answers: Array<() => void> = [];
    let started = 0;
    const monitor = new HeartbeatMonitor({
      targets: ['a'],
      // Ignores its signal: settles only when the test says so.
      probe: () => {
        started++;
        return new Promise<void>((resolve) => answers.push(resolve));
      },
      interval: 100,
      timeout: 1_000,
      jitter: 0,
      registry,
      clock,
      random: () => 0,
    });
    monitor.start();
    await clock.advance(0);
    expect(started).toBe(1);
    monitor.stop();
    monitor.start();
    await clock.advance(500); // five ticks fall due while the old probe still holds the slot
    expect(started).toBe(1);
    expect(monitor.inFlight).toBe(1);
    answers.shift()!(); // the probe from before stop() answers late
    await clock.advance(0);
    expect(registry.isMonitoring('a')).toBe(false); // aborted by stop(): not a heartbeat
    await clock.advance(100);
    expect(started).toBe(2); // the slot is free again
    answers.shift()!();
    await clock.advance(0);
    expect(registry.isMonitoring('a')).toBe(true);
    monitor.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('a target that stops answering becomes a suspect within the time phi predicts', async () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    let alive = true;
    const monitor = new HeartbeatMonitor({
      targets: ['a', 'b'],
      probe: async (target) => {
        await clock.sleep(2);
        if (target === 'a' && !alive) throw new Error('ECONNREFUSED');
      },
      interval: 100,
      registry,
      clock,
      random: seededRandom(5),
    });
    const events: Array<[string, string, number]> = [];
    registry.onSuspect((key) => events.push(['suspect', key, clock.now()]));
    registry.onRecover((key) => events.push(['recover', key, clock.now()]));
    const stopWatch = registry.watch({ interval: 5 });
    monitor.start();
    await clock.advance(3000);
    expect(events).toEqual([]);
    alive = false;
    const stoppedAt = clock.now();
    const predicted = registry.get('a')!.timeUntilUnavailable();
    await clock.advance(predicted + 50);
    expect(events.map(([kind, key]) => [kind, key])).toEqual([['suspect', 'a']]);
    const detectedAfter = events[0]![2] - stoppedAt;
    expect(detectedAfter).toBeLessThanOrEqual(predicted + 5);
    expect(detectedAfter).toBeGreaterThan(predicted - 5);
    alive = true;
    await clock.advance(200);
    expect(events.map(([kind, key]) => [kind, key])).toEqual([
      ['suspect', 'a'],
      ['recover', 'a'],
    ]);
    monitor.stop();
    stopWatch();
    await clock.runAll();
    expect(clock.pendingTimers).toBe(0);
  });

  it('at most one probe per target in flight, and no timer after stop (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 10, max: 200 }),
        fc.integer({ min: 5, max: 500 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
        async (durations, interval, timeout, jitter, targetCount, seed) => {
          const clock = new VirtualClock();
          const registry = setup(clock);
          const targets = ['a', 'b', 'c'].slice(0, targetCount);
          const inFlight = new Map<string, number>();
          let probes = 0;
          let worst = 0;
          const monitor = new HeartbeatMonitor({
            targets,
            probe: async (target, signal) => {
              const duration = durations[probes++ % durations.length]!;
              const now = (inFlight.get(target) ?? 0) + 1;
              inFlight.set(target, now);
              worst = Math.max(worst, now);
              try {
                // Half the probes honour the signal, half ignore it.
                await clock.sleep(duration, probes % 2 === 0 ? signal : undefined);
              } finally {
                inFlight.set(target, inFlight.get(target)! - 1);
              }
            },
            interval,
            timeout,
            jitter,
            registry,
            clock,
            random: seededRandom(seed),
          });
          monitor.start();
          await clock.advance(1500);
          monitor.stop();
          await clock.runAll();
          expect(worst).toBeLessThanOrEqual(1);
          expect(clock.pendingTimers).toBe(0);
          expect(monitor.inFlight).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('add() and remove() targets while running', async () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    const aborted: string[] = [];
    const monitor = new HeartbeatMonitor<string>({
      targets: [],
      probe: async (target, signal) => {
        signal.addEventListener('abort', () => aborted.push(target));
        await clock.sleep(10);
      },
      interval: 100,
      registry,
      clock,
      random: () => 0.5,
    });
    monitor.start();
    expect(monitor.add('x')).toBe(true);
    expect(monitor.add('x')).toBe(false);
    expect(monitor.targets).toEqual(['x']);
    await clock.advance(55); // first probe at 50, in flight until 60
    expect(monitor.remove('x')).toBe(true);
    expect(monitor.remove('x')).toBe(false);
    expect(aborted).toEqual(['x']);
    await clock.runAll();
    expect(clock.pendingTimers).toBe(0);
    expect(registry.isMonitoring('x')).toBe(false);
    monitor.stop();
  });

  it('re-adding a removed target waits for its probe still in flight', async () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    let inFlight = 0;
    let worst = 0;
    const monitor = new HeartbeatMonitor<string>({
      targets: ['x'],
      probe: async () => {
        inFlight++;
        worst = Math.max(worst, inFlight);
        await clock.sleep(300); // ignores the signal
        inFlight--;
      },
      interval: 50,
      timeout: 1000,
      registry,
      clock,
      random: () => 0,
    });
    monitor.start();
    await clock.advance(10); // probe 1 runs until 300
    monitor.remove('x');
    monitor.add('x'); // its first tick comes at once (random 0) but the slot is taken
    await clock.advance(200);
    expect(worst).toBe(1);
    expect(monitor.inFlight).toBe(1);
    await clock.advance(400);
    expect(worst).toBe(1);
    monitor.stop();
    await clock.runAll();
    expect(clock.pendingTimers).toBe(0);
  });

  it('a random source outside [0, 1]: start() throws naming it; a later break is reported, never a NaN timer', async () => {
    // A timer of NaN ms fires at once: a broken source would be a probe storm (issue 14 item 20).
    const clock = new VirtualClock();
    const broken = new HeartbeatMonitor({
      targets: ['a'],
      probe: async () => {},
      registry: setup(clock),
      clock,
      random: () => Number.NaN,
    });
    expect(() => broken.start()).toThrow(/HeartbeatMonitor: option "random" must return/);
    expect(clock.pendingTimers).toBe(0);
    let draws = 0;
    // Counted per channel: a runtime may deliver one report to both (Deno's process
    // 'uncaughtException' is itself an 'error' listener); a second report shows on each.
    const fromEvents: unknown[] = [];
    const fromProcess: unknown[] = [];
    const onError = (event: ErrorEvent) => {
      fromEvents.push(event.error);
      event.preventDefault();
    };
    globalThis.addEventListener?.('error', onError as never);
    const onUncaught = (error: unknown) => fromProcess.push(error);
    process.on('uncaughtException', onUncaught);
    let probes = 0;
    const later = new HeartbeatMonitor({
      targets: ['a'],
      probe: async () => {
        probes++;
      },
      interval: 100,
      registry: setup(clock),
      clock,
      random: () => (++draws === 1 ? 0.5 : Number.NaN),
    });
    try {
      later.start();
      await clock.advance(1_000);
      await new Promise((resolve) => setImmediate(resolve));
      later.stop();
    } finally {
      process.off('uncaughtException', onUncaught);
      globalThis.removeEventListener?.('error', onError as never);
    }
    expect(probes).toBeGreaterThanOrEqual(9);
    expect(probes).toBeLessThanOrEqual(11);
    const reported = fromEvents.length > 0 ? fromEvents : fromProcess;
    expect(Math.max(fromEvents.length, fromProcess.length)).toBe(1);
    expect(String(reported[0])).toMatch(/option "random"/);
  });

  it('reports a broken detector factory as a probe failure', async () => {
    const clock = new VirtualClock();
    const registry = new DetectorRegistry<string>(() => null as never, { clock });
    const failures: unknown[] = [];
    const monitor = new HeartbeatMonitor({
      targets: ['a'],
      probe: async () => {},
      interval: 50,
      registry,
      clock,
    });
    monitor.onProbeFailure((_target, error) => failures.push(error));
    monitor.start();
    await clock.advance(60);
    monitor.stop();
    expect(failures.length).toBeGreaterThan(0);
    expect(String(failures[0])).toMatch(/must return a FailureDetector/);
  });

  describe('option validation', () => {
    const clock = new VirtualClock();
    const registry = setup(clock);
    const valid: HeartbeatMonitorOptions<string> = {
      targets: ['a'],
      probe: async () => {},
      registry,
      clock,
    };
    const cases: Array<[string, unknown, ErrorConstructor, RegExp]> = [
      [
        'targets',
        'a',
        TypeError,
        /HeartbeatMonitor: option "targets" must be an array, received "a"/,
      ],
      [
        'targets',
        ['a', 'a'],
        RangeError,
        /"targets" must not contain duplicates, received "a" twice/,
      ],
      ['probe', undefined, TypeError, /"probe" must be a function, received undefined/],
      ['registry', {}, TypeError, /"registry" must be a DetectorRegistry/],
      [
        'interval',
        '100',
        TypeError,
        /"interval" must be a number in \(0, Infinity\), received "100"/,
      ],
      ['interval', 0, RangeError, /"interval" must be a number in \(0, Infinity\), received 0/],
      ['interval', Number.POSITIVE_INFINITY, RangeError, /"interval"/],
      ['timeout', null, TypeError, /"timeout" must be a number in \(0, Infinity\), received null/],
      ['timeout', -1, RangeError, /"timeout" must be a number in \(0, Infinity\), received -1/],
      ['jitter', '0.1', TypeError, /"jitter"/],
      ['jitter', 1, RangeError, /"jitter" must be a number in \[0, 1\), received 1/],
      ['jitter', -0.1, RangeError, /"jitter"/],
      ['clock', { now: () => 0 }, TypeError, /"clock" must be a Clock/],
      ['random', 0.5, TypeError, /"random" must be a function, received 0.5/],
    ];
    for (const [option, value, kind, message] of cases) {
      it(`${option} = ${JSON.stringify(value)} is a ${kind.name}`, () => {
        const options = { ...valid, [option]: value } as HeartbeatMonitorOptions<string>;
        expect(() => new HeartbeatMonitor(options)).toThrow(kind);
        expect(() => new HeartbeatMonitor(options)).toThrow(message);
      });
    }
    it('options must be an object', () => {
      expect(() => new HeartbeatMonitor(undefined as never)).toThrow(TypeError);
      expect(() => new HeartbeatMonitor(7 as never)).toThrow(TypeError);
    });
    it('accepts jitter 0 and a custom clock object', () => {
      const custom: Clock = { now: () => 0, sleep: async () => {}, setTimer: () => () => {} };
      expect(() => new HeartbeatMonitor({ ...valid, jitter: 0, clock: custom })).not.toThrow();
    });
  });
});
