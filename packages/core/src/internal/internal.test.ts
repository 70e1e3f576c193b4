import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contextFor, rootContext } from '../context.js';
import { formatMs } from './format.js';
import { LinkedList, ListNode } from './linked-list.js';
import { isThenable, raceTimer } from './race.js';
import { WaitQueue } from './wait-queue.js';

class Item extends ListNode {
  constructor(readonly id: number) {
    super();
  }
}

describe('LinkedList', () => {
  it('behaves like an array under random push / remove / shift / moveToEnd (model test)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), id: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('touch' as const), id: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('shift' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const nodes = Array.from({ length: 10 }, (_, id) => new Item(id));
        const list = new LinkedList<Item>();
        let model: number[] = [];
        for (const step of ops) {
          if (step.kind === 'push') {
            if (model.includes(step.id)) continue; // a node is in at most one place
            list.push(nodes[step.id]!);
            model.push(step.id);
          } else if (step.kind === 'remove') {
            expect(list.remove(nodes[step.id]!)).toBe(model.includes(step.id));
            model = model.filter((id) => id !== step.id);
          } else if (step.kind === 'touch') {
            if (!model.includes(step.id)) continue;
            list.moveToEnd(nodes[step.id]!);
            model = [...model.filter((id) => id !== step.id), step.id];
          } else {
            expect(list.shift()?.id).toBe(model.shift());
          }
          expect([...list].map((node) => node.id)).toEqual(model);
          expect(list.size).toBe(model.length);
          for (const node of nodes) expect(list.has(node)).toBe(model.includes(node.id));
        }
      }),
    );
  });
});

describe('WaitQueue', () => {
  it('hands out waiters first come first served', async () => {
    const queue = new WaitQueue<string, string>(new VirtualClock());
    const a = queue.wait(rootContext, 'a', Number.POSITIVE_INFINITY, () => new Error('t'));
    const b = queue.wait(rootContext, 'b', Number.POSITIVE_INFINITY, () => new Error('t'));
    expect(queue.size).toBe(2);
    const first = queue.shift()!;
    first.resolve(`got ${first.payload}`);
    const second = queue.shift()!;
    second.resolve(`got ${second.payload}`);
    expect(queue.shift()).toBeUndefined();
    await expect(Promise.all([a, b])).resolves.toEqual(['got a', 'got b']);
  });

  it('a waiter whose caller aborts leaves at once, its listener and timer gone', async () => {
    const clock = new VirtualClock();
    const queue = new WaitQueue<undefined, void>(clock);
    const controller = new AbortController();
    const waiting = queue.wait(
      contextFor(controller.signal),
      undefined,
      1_000,
      () => new Error('t'),
    );
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('gone');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(queue.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a waiter that waits past its timeout leaves with the timeout error', async () => {
    const clock = new VirtualClock();
    const queue = new WaitQueue<undefined, void>(clock);
    const timeout = new Error('waited too long');
    const waiting = queue.wait(rootContext, undefined, 50, () => timeout);
    const check = expect(waiting).rejects.toBe(timeout);
    await clock.advance(50);
    await check;
    expect(queue.size).toBe(0);
  });
});

describe('raceTimer', () => {
  it('settles like the call when it is first, and clears its timer', async () => {
    const clock = new VirtualClock();
    await expect(
      raceTimer(
        clock,
        10,
        () => 'now',
        () => new Error('t'),
      ),
    ).resolves.toBe('now');
    await expect(
      raceTimer(
        clock,
        10,
        () => Promise.reject(new Error('no')),
        () => new Error('t'),
      ),
    ).rejects.toThrow('no');
    await expect(
      raceTimer(
        clock,
        10,
        () => {
          throw new Error('sync');
        },
        () => new Error('t'),
      ),
    ).rejects.toThrow('sync');
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with the timeout error when the time passes first; a late settle is ignored', async () => {
    const clock = new VirtualClock();
    let late!: (value: string) => void;
    const racing = raceTimer(
      clock,
      10,
      () => new Promise<string>((resolve) => (late = resolve)),
      () => new Error('too slow'),
    );
    const check = expect(racing).rejects.toThrow('too slow');
    await clock.advance(10);
    await check;
    late('late');
  });

  it('isThenable', () => {
    // Built with defineProperty: a literal `then` member is what the lint rule forbids.
    const thenable = (then: unknown): object => Object.defineProperty({}, 'then', { value: then });
    expect(isThenable(Promise.resolve())).toBe(true);
    expect(isThenable(thenable(() => {}))).toBe(true);
    expect(isThenable(Object.defineProperty(() => {}, 'then', { value: () => {} }))).toBe(true);
    for (const value of [null, undefined, 1, 'x', {}, thenable(1)]) {
      expect(isThenable(value)).toBe(false);
    }
  });
});

describe('formatMs', () => {
  it('rounds fractions to a tenth of a millisecond', () => {
    expect(formatMs(4999.314952000001)).toBe('4999.3');
    expect(formatMs(610.853)).toBe('610.9');
    expect(formatMs(500)).toBe('500');
    expect(formatMs(0.04)).toBe('0');
    expect(formatMs(Number.POSITIVE_INFINITY)).toBe('Infinity');
  });
});
