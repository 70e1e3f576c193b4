import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClockOffsetError,
  compareTimestamps,
  decodeTimestamp,
  encodeTimestamp,
  type HlcTimestamp,
  HybridLogicalClock,
} from './hlc.js';

/** A clock whose physical time the test sets before each event. */
function node(maxOffset = 60_000): { hlc: HybridLogicalClock; set(pt: number): void } {
  let pt = 0;
  return {
    hlc: new HybridLogicalClock({ physicalTime: () => pt, maxOffset }),
    set(value) {
      pt = value;
    },
  };
}

describe('HybridLogicalClock (Kulkarni et al. 2014, Figure 5)', () => {
  it('reproduces the reference table, every branch', () => {
    const a = node();
    const b = node();
    const nodes = { A: a, B: b };
    const table: Array<
      [
        step: number,
        who: 'A' | 'B',
        event: 'send' | 'recv' | 'local',
        pt: number,
        m: HlcTimestamp | null,
        result: HlcTimestamp,
      ]
    > = [
      [1, 'A', 'send', 10, null, { l: 10, c: 0 }],
      [2, 'A', 'send', 10, null, { l: 10, c: 1 }],
      [3, 'B', 'recv', 8, { l: 10, c: 1 }, { l: 10, c: 2 }],
      [4, 'B', 'recv', 9, { l: 10, c: 0 }, { l: 10, c: 3 }],
      [5, 'B', 'send', 9, null, { l: 10, c: 4 }],
      [6, 'A', 'recv', 10, { l: 10, c: 4 }, { l: 10, c: 5 }],
      [7, 'A', 'recv', 10, { l: 9, c: 7 }, { l: 10, c: 6 }],
      [8, 'A', 'local', 12, null, { l: 12, c: 0 }],
      [9, 'B', 'recv', 15, { l: 12, c: 0 }, { l: 15, c: 0 }],
      [10, 'B', 'recv', 15, { l: 15, c: 3 }, { l: 15, c: 4 }],
    ];
    for (const [step, who, event, pt, m, result] of table) {
      const n = nodes[who];
      n.set(pt);
      const got = event === 'recv' ? n.hlc.receive(m!) : n.hlc.now();
      expect({ step, ...got }).toEqual({ step, ...result });
      expect(n.hlc.current()).toEqual(result);
    }
  });

  it('rejects a remote timestamp more than maxOffset ahead, without adopting it', () => {
    const n = node(1000);
    n.set(5000);
    const before = n.hlc.now();
    expect(() => n.hlc.receive({ l: 6001, c: 0 })).toThrow(ClockOffsetError);
    try {
      n.hlc.receive({ l: 6001, c: 3 });
    } catch (error) {
      const offsetError = error as ClockOffsetError;
      expect(offsetError.name).toBe('ClockOffsetError');
      expect(offsetError.offset).toBe(1001);
      expect(offsetError.maxOffset).toBe(1000);
      expect(offsetError.physicalTime).toBe(5000);
      expect(offsetError.remote).toEqual({ l: 6001, c: 3 });
    }
    expect(n.hlc.current()).toEqual(before);
    // Exactly maxOffset ahead is accepted.
    expect(n.hlc.receive({ l: 6000, c: 0 })).toEqual({ l: 6000, c: 1 });
  });

  it('stays monotonic when physical time goes backwards', () => {
    const n = node();
    n.set(1000);
    const first = n.hlc.now();
    n.set(10);
    const second = n.hlc.now();
    expect(compareTimestamps(first, second)).toBeLessThan(0);
    expect(second).toEqual({ l: 1000, c: 1 });
  });

  it('floors fractional physical time and uses Date.now by default', () => {
    const n = node();
    n.set(10.9);
    expect(n.hlc.now()).toEqual({ l: 10, c: 0 });
    const real = new HybridLogicalClock();
    const ts = real.now();
    expect(Math.abs(ts.l - Date.now())).toBeLessThan(1000);
  });

  it('property: timestamps are strictly monotonic per node and respect happened-before', () => {
    type Op =
      | { kind: 'local'; node: number; drift: number }
      | { kind: 'send'; node: number; to: number; drift: number }
      | { kind: 'deliver'; pick: number; drift: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('local' as const),
        node: fc.nat(2),
        drift: fc.integer({ min: -50, max: 50 }),
      }),
      fc.record({
        kind: fc.constant('send' as const),
        node: fc.nat(2),
        to: fc.nat(2),
        drift: fc.integer({ min: -50, max: 50 }),
      }),
      fc.record({
        kind: fc.constant('deliver' as const),
        pick: fc.nat(),
        drift: fc.integer({ min: -50, max: 50 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 3, maxLength: 3 }),
        fc.array(op, { maxLength: 60 }),
        (skews, ops) => {
          const N = 3;
          let realTime = 10_000;
          // Each node's physical clock: shared real time + fixed skew + per-event jitter (which
          // may move it backwards).
          const pts = [0, 0, 0];
          const clocks = pts.map(
            (_, i) =>
              new HybridLogicalClock({
                physicalTime: () => pts[i]!,
                maxOffset: Number.POSITIVE_INFINITY,
              }),
          );
          interface Event {
            readonly ts: HlcTimestamp;
            readonly vc: readonly number[];
          }
          const events: Event[] = [];
          const vcs = Array.from({ length: N }, () => new Array<number>(N).fill(0));
          const last: Array<HlcTimestamp | undefined> = new Array(N).fill(undefined);
          const inFlight: Array<{ to: number; ts: HlcTimestamp; vc: number[] }> = [];
          const record = (i: number, ts: HlcTimestamp): void => {
            const previous = last[i];
            if (previous !== undefined) expect(compareTimestamps(previous, ts)).toBeLessThan(0);
            last[i] = ts;
            vcs[i]![i]! += 1;
            events.push({ ts, vc: [...vcs[i]!] });
          };
          for (const o of ops) {
            realTime += 7;
            if (o.kind === 'deliver') {
              if (inFlight.length === 0) continue;
              const [message] = inFlight.splice(o.pick % inFlight.length, 1);
              const i = message!.to;
              pts[i] = realTime + skews[i]! + o.drift;
              const ts = clocks[i]!.receive(message!.ts);
              expect(compareTimestamps(message!.ts, ts)).toBeLessThan(0);
              vcs[i] = vcs[i]!.map((v, k) => Math.max(v, message!.vc[k]!));
              record(i, ts);
            } else {
              const i = o.node;
              pts[i] = realTime + skews[i]! + o.drift;
              const ts = clocks[i]!.now();
              record(i, ts);
              if (o.kind === 'send') inFlight.push({ to: o.to, ts, vc: [...vcs[i]!] });
            }
          }
          // e happened-before f (vector clocks) ⇒ ts(e) < ts(f).
          const hb = (a: readonly number[], b: readonly number[]): boolean =>
            a.every((v, k) => v <= b[k]!) && a.some((v, k) => v < b[k]!);
          for (const e of events) {
            for (const f of events) {
              if (hb(e.vc, f.vc)) expect(compareTimestamps(e.ts, f.ts)).toBeLessThan(0);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('timestamp encoding', () => {
  it('encodes as fixed-width decimals', () => {
    expect(encodeTimestamp({ l: 1764170000000, c: 3 })).toBe('0001764170000000.0000000000000003');
    expect(HybridLogicalClock.encode({ l: 0, c: 0 })).toBe('0000000000000000.0000000000000000');
    expect(HybridLogicalClock.decode('0001764170000000.0000000000000003')).toEqual({
      l: 1764170000000,
      c: 3,
    });
    expect(HybridLogicalClock.compare({ l: 1, c: 9 }, { l: 2, c: 0 })).toBe(-1);
  });

  it('property: string order equals timestamp order, and decode inverts encode', () => {
    const ts = fc.record({ l: fc.maxSafeNat(), c: fc.maxSafeNat() });
    const small = fc.record({ l: fc.nat(3), c: fc.nat(3) });
    fc.assert(
      fc.property(fc.oneof(ts, small), fc.oneof(ts, small), (a, b) => {
        const ea = encodeTimestamp(a);
        const eb = encodeTimestamp(b);
        const stringOrder = ea < eb ? -1 : ea > eb ? 1 : 0;
        expect(stringOrder).toBe(compareTimestamps(a, b));
        expect(decodeTimestamp(ea)).toEqual(a);
      }),
    );
  });

  it.each([
    '',
    '1.2',
    '0001764170000000',
    '0001764170000000.000000000000003',
    '0001764170000000-0000000000000003',
    '9007199254740992.0000000000000000',
    '0000000000000000.9999999999999999',
    ' 0001764170000000.0000000000000003',
  ])('decode rejects %j with RangeError', (text) => {
    expect(() => decodeTimestamp(text)).toThrow(RangeError);
    expect(() => decodeTimestamp(text)).toThrow(
      /decodeTimestamp: "text" must be two 16-digit decimals/,
    );
  });

  it('decode rejects a non-string; encode and receive reject bad timestamps', () => {
    expect(() => decodeTimestamp(5 as unknown as string)).toThrow(TypeError);
    expect(() => encodeTimestamp({ l: -1, c: 0 })).toThrow(RangeError);
    expect(() => encodeTimestamp({ l: 1.5, c: 0 })).toThrow(/"timestamp.l" must be an integer/);
    expect(() => encodeTimestamp({ l: 1, c: '0' } as unknown as HlcTimestamp)).toThrow(TypeError);
    expect(() => encodeTimestamp(null as unknown as HlcTimestamp)).toThrow(TypeError);
    const hlc = new HybridLogicalClock({ physicalTime: () => 0 });
    expect(() => hlc.receive({ l: 1, c: -1 })).toThrow(
      /HybridLogicalClock.receive: argument "m.c"/,
    );
    expect(() => hlc.receive({ l: Number.NaN, c: 0 })).toThrow(TypeError);
    expect(hlc.current()).toEqual({ l: 0, c: 0 });
  });
});

describe('HybridLogicalClock options', () => {
  it('physicalTime: wrong type (a function has no range; a bad return value is a TypeError at use)', () => {
    expect(() => new HybridLogicalClock({ physicalTime: 5 as unknown as () => number })).toThrow(
      TypeError,
    );
    expect(() => new HybridLogicalClock({ physicalTime: 5 as unknown as () => number })).toThrow(
      /HybridLogicalClock: option "physicalTime" must be a function/,
    );
    const broken = new HybridLogicalClock({ physicalTime: () => Number.NaN });
    expect(() => broken.now()).toThrow(/physicalTime\(\) must return a finite number/);
    expect(() => new HybridLogicalClock({ physicalTime: () => -1 }).now()).toThrow(TypeError);
  });

  it('maxOffset: wrong type and out of range', () => {
    expect(() => new HybridLogicalClock({ maxOffset: '1' as unknown as number })).toThrow(
      TypeError,
    );
    expect(() => new HybridLogicalClock({ maxOffset: '1' as unknown as number })).toThrow(
      /option "maxOffset"/,
    );
    expect(() => new HybridLogicalClock({ maxOffset: -1 })).toThrow(RangeError);
    expect(() => new HybridLogicalClock({ maxOffset: -1 })).toThrow(
      /option "maxOffset".*received -1/,
    );
    expect(() => new HybridLogicalClock({ maxOffset: Number.POSITIVE_INFINITY })).not.toThrow();
  });

  it('options: wrong type', () => {
    expect(() => new HybridLogicalClock(5 as unknown as object)).toThrow(
      /HybridLogicalClock: options must be an object/,
    );
  });
});
