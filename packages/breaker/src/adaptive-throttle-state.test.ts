/**
 * Model test of the throttle's state: random sequences of admissions, answers and clock moves
 * against a naive reference that keeps every request with its time and recomputes the window by
 * filtering. Probabilities, decisions and whether a random number is drawn must agree (a draw
 * consumes a seeded source, so an extra or a missing one changes every later decision).
 */
import { type Clock, systemClock } from '@faultline/clock';
import { fakeTimersClock } from '@faultline/test-support/browser';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { AdaptiveThrottleState } from './adaptive-throttle-state.js';

const WINDOW = 1_000;
const BUCKETS = 4;

class Model {
  readonly records: Array<{ t: number; accepted: boolean }> = [];
  constructor(
    readonly k: number,
    readonly minimumRequests: number,
  ) {}

  #live(now: number) {
    const width = WINDOW / BUCKETS;
    const head = Math.floor(now / width);
    return this.records.filter((r) => Math.floor(r.t / width) > head - BUCKETS);
  }

  probability(now: number): number {
    const live = this.#live(now);
    const requests = live.length;
    if (requests < this.minimumRequests) return 0;
    const accepts = live.filter((r) => r.accepted).length;
    return Math.max(0, (requests - this.k * accepts) / (requests + 1));
  }
}

type Command =
  | { type: 'admit'; u: number; answer: 'accepted' | 'rejected' | 'ignored' | 'later' }
  | { type: 'answer-later'; accepted: boolean }
  | { type: 'advance'; ms: number };

// Answers lean towards rejections (so the probability often rises above 0) and clock moves are
// long enough to leave the last rejecting slice as the oldest one still live.
const answerArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant('rejected' as const) },
  { weight: 2, arbitrary: fc.constant('accepted' as const) },
  { weight: 1, arbitrary: fc.constant('ignored' as const) },
  { weight: 1, arbitrary: fc.constant('later' as const) },
);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant('admit' as const),
      u: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      answer: answerArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('answer-later' as const), accepted: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom(WINDOW / BUCKETS, (WINDOW * 3) / BUCKETS, WINDOW),
      ),
    }),
  },
);

/**
 * Runs `commands` against the state on `clock` and the model. `observe`: compare probabilities
 * after every step (reading them advances the window); otherwise only admissions are compared at
 * each step, and the probability at the end.
 */
function runScenario(
  k: number,
  minimumRequests: number,
  commands: Command[],
  clock: Clock & { t: number },
  stateClock: Clock,
  observe: boolean,
): void {
  const state = new AdaptiveThrottleState(k, minimumRequests, WINDOW, BUCKETS, stateClock);
  const model = new Model(k, minimumRequests);
  let pending = 0;
  for (const [step, command] of commands.entries()) {
    const where = `step ${step} ${JSON.stringify(command)}`;
    const t = clock.t;
    if (command.type === 'advance') {
      clock.t += command.ms;
    } else if (command.type === 'answer-later') {
      if (pending === 0) continue;
      pending--;
      state.answered(command.accepted);
      model.records.push({ t, accepted: command.accepted });
    } else {
      const p = model.probability(t);
      let draws = 0;
      const rejectedAt = state.admit(() => {
        draws++;
        return command.u;
      });
      expect(draws, where).toBe(p > 0 ? 1 : 0);
      const rejected = p > 0 && command.u < p;
      expect(rejectedAt, where).toBe(rejected ? p : undefined);
      if (rejected) {
        model.records.push({ t, accepted: false });
      } else if (command.answer === 'later') {
        pending++;
      } else if (command.answer !== 'ignored') {
        const accepted = command.answer === 'accepted';
        state.answered(accepted);
        model.records.push({ t, accepted });
      }
    }
    if (observe) {
      expect(state.probability(), where).toBeCloseTo(model.probability(clock.t), 12);
    }
  }
  expect(state.probability(), 'final').toBeCloseTo(model.probability(clock.t), 12);
}

/** The inputs of `runScenario`: k, minimumRequests and the commands. */
const scenarioArbs = [
  fc.constantFrom(1, 1.5, 2, 3),
  fc.constantFrom(0, 3),
  fc.array(commandArb, { minLength: 1, maxLength: 120 }),
] as const;

describe('adaptive throttle state against a reference model', () => {
  it('agrees on probabilities, decisions and draws', () => {
    fc.assert(
      fc.property(...scenarioArbs, (k, minimumRequests, commands) => {
        const clock = {
          t: 0,
          now: () => clock.t,
          sleep: () => Promise.resolve(),
          setTimer: () => () => {},
        };
        runScenario(k, minimumRequests, commands, clock, clock, true);
      }),
      { numRuns: 500 },
    );
  });

  // On systemClock an answer is dated without a clock read while its slice timer is pending
  // (RollingCounters.tick): with timers that fire on time, the model still agrees exactly.
  it('agrees on systemClock, with performance.now() and setTimeout faked', () => {
    fc.assert(
      fc.property(...scenarioArbs, (k, minimumRequests, commands) => {
        const clock = fakeTimersClock(systemClock);
        try {
          runScenario(k, minimumRequests, commands, clock, systemClock, false);
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a request admitted while every live request was accepted reads no clock', () => {
    let reads = 0;
    const clock: Clock = {
      now: () => {
        reads++;
        return 0;
      },
      sleep: () => Promise.resolve(),
      setTimer: () => () => {},
    };
    const state = new AdaptiveThrottleState(2, 0, WINDOW, BUCKETS, clock);
    for (let i = 0; i < 10; i++) {
      expect(state.admit(() => 0)).toBeUndefined();
      state.answered(true);
    }
    expect(reads).toBe(10); // one per answer, none per admission
  });
});
