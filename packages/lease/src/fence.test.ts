import { type TelemetryEventRecord, telemetry } from '@faultline/core';
import { refusal, telemetryRecorder } from '@faultline/test-support/browser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fenceGuard } from './fence.js';
import { FencedOutError } from './lease-errors.js';

const recordTelemetry = telemetryRecorder(telemetry);

describe('fenceGuard', () => {
  it('admits equal and higher tokens, refuses lower ones on reads and writes alike', async () => {
    const guard = fenceGuard();
    expect(guard.highest).toBeUndefined();
    expect(await guard.write(33n, () => 'w33')).toBe('w33');
    expect(await guard.write(33n, async () => 'again')).toBe('again');
    expect(await guard.read(34n, () => 'r34')).toBe('r34');
    expect(guard.highest).toBe(34n);
    const error = await refusal((task) => guard.write(33n, task));
    expect(error).toBeInstanceOf(FencedOutError);
    expect(error).toMatchObject({ code: 'FENCED_OUT', token: 33n, highest: 34n });
    expect((error as Error).message).toBe(
      'write with fencing token 33 rejected: the resource has already seen token 34',
    );
    await expect(guard.read(33n, () => 0)).rejects.toThrow(/^read with fencing token 33/);
    expect(() => guard.admit(2n)).toThrow(FencedOutError);
    guard.admit(40n, 'read');
    expect(guard.highest).toBe(40n);
  });

  it('fencing reads prevents the lost update of a read-modify-write; fencing writes alone does not', async () => {
    // DDIA's lost update with a paused holder: 34 reads, the paused 33 writes, 34 writes.
    const run = async (fenceReads: boolean): Promise<number> => {
      const guard = fenceGuard();
      let register = 0;
      let acknowledged = 0;
      const read = (token: bigint) =>
        fenceReads ? guard.read(token, () => register) : Promise.resolve(register);
      const write = (token: bigint, value: number) =>
        guard
          .write(token, () => {
            register = value;
          })
          .then(
            () => acknowledged++,
            () => {},
          );
      const old = await read(33n); // holder 33 reads 0, then pauses
      const fresh = await read(34n); // holder 34 reads 0
      await write(33n, old + 1); // 33 resumes and writes 1
      await write(34n, fresh + 1); // 34 writes 1
      return acknowledged - register; // lost updates
    };
    expect(await run(true)).toBe(0); // 33's write refused: nothing acknowledged is lost
    expect(await run(false)).toBe(1); // 33's write accepted: one acknowledged increment lost
  });

  it('property: an access succeeds exactly when its token is ≥ every token admitted before', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 20n }), fc.boolean()), { maxLength: 60 }),
        async (accesses) => {
          const guard = fenceGuard();
          let highest: bigint | undefined;
          for (const [token, isRead] of accesses) {
            const expected = highest === undefined || token >= highest;
            const ok = await (isRead
              ? guard.read(token, () => 1)
              : guard.write(token, () => 1)
            ).then(
              () => true,
              (e: unknown) => {
                expect(e).toBeInstanceOf(FencedOutError);
                return false;
              },
            );
            expect(ok).toBe(expected);
            if (ok) highest = token;
            expect(guard.highest).toBe(highest);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('publishes fenced-out with the access kind', async () => {
    const records = recordTelemetry();
    const guard = fenceGuard({ name: 'orders-table' });
    await guard.write(2n, () => {});
    await guard.read(1n, () => {}).catch(() => {});
    const events = records.filter((r): r is TelemetryEventRecord => r.type === 'event');
    expect(events.map((r) => [r.event, r.policy, r.severity, r.attributes])).toEqual([
      ['fenced-out', { kind: 'fence', name: 'orders-table' }, 'warning', { access: 'read' }],
    ]);
  });
});
