import { type TelemetryEventRecord, type TelemetryRecord, telemetry } from '@faultline/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createIdempotency } from './idempotency.js';
import type { IdempotencyRequest } from './request.js';
import { memoryStore } from './stores/memory.js';
import { faultyStore } from './testing.js';

const unsubscribers: Array<() => void> = [];
afterEach(() => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
  vi.restoreAllMocks();
});

function record(): TelemetryEventRecord[] {
  const records: TelemetryEventRecord[] = [];
  unsubscribers.push(
    telemetry.subscribe((item: TelemetryRecord) => {
      if (item.type === 'event') records.push(item);
    }),
  );
  return records;
}

function request(key: string, body = '{"amount":10}', user = 'alice'): IdempotencyRequest {
  return {
    method: 'POST',
    path: `/orders/${key}`,
    query: `ref=${key}`,
    headers: { 'idempotency-key': key, 'content-type': 'application/json', 'x-user': user },
    body,
  };
}

const created = {
  status: 201,
  headers: { 'content-type': 'application/json' },
  body: new Uint8Array([1]),
};

describe('idempotency telemetry (issue 16)', () => {
  it('publishes idempotency-replay, idempotency-conflict and store-failure with the server’s identity', async () => {
    const records = record();
    const store = faultyStore(memoryStore());
    const idem = createIdempotency({
      store,
      name: 'orders',
      scope: (req) => req.headers['x-user'] as string,
      logger: false,
    });
    const first = await idem.begin(request('k1'));
    expect(first.kind).toBe('execute');
    // The same key while it runs: a conflict; with another body: a mismatch.
    expect((await idem.begin(request('k1'))).kind).toBe('reject');
    expect((await idem.begin(request('k1', '{"amount":99}'))).kind).toBe('reject');
    if (first.kind === 'execute' && first.token !== undefined) {
      await idem.complete(first.token, created);
    }
    expect((await idem.begin(request('k1'))).kind).toBe('replay');
    store.fail('claim', 'reject');
    expect((await idem.begin(request('k2'))).kind).toBe('reject');

    expect(
      records.map(({ event, severity, attributes }) => ({ event, severity, attributes })),
    ).toEqual([
      {
        event: 'idempotency-conflict',
        severity: 'warning',
        attributes: { reason: 'in-progress' },
      },
      {
        event: 'idempotency-conflict',
        severity: 'warning',
        attributes: { reason: 'fingerprint-mismatch' },
      },
      { event: 'idempotency-replay', severity: 'information', attributes: { status: 201 } },
      { event: 'store-failure', severity: 'warning', attributes: { operation: 'claim' } },
    ]);
    for (const item of records) {
      expect(item.policy).toEqual({ kind: 'idempotency', name: 'orders' });
      expect(item.pipeline).toBeUndefined();
      expect(item.operation).toBeUndefined();
    }
    expect(records[3]!.error).toBeInstanceOf(Error);
    const defaults = createIdempotency({ store: memoryStore(), globalKeys: true });
    const seen = record();
    await defaults.begin(request('x'));
    await defaults.begin(request('x'));
    expect(seen[0]?.policy).toEqual({ kind: 'idempotency', name: 'idempotency' });
  });

  it('10 000 distinct keys, URLs and principals: the records carry none of them, and stay a handful of kinds', async () => {
    const records = record();
    const store = faultyStore(memoryStore({ maxEntries: 100_000 }));
    const idem = createIdempotency({
      store,
      scope: (req) => req.headers['x-user'] as string,
      logger: false,
    });
    for (let i = 0; i < 10_000; i++) {
      const key = `order-${i}-${Math.random().toString(36).slice(2)}`;
      const user = `user-${i}`;
      const result = await idem.begin(request(key, undefined, user));
      if (i % 10 === 0) await idem.begin(request(key, undefined, user)); // conflict
      if (result.kind === 'execute' && result.token !== undefined) {
        await idem.complete(result.token, created);
        if (i % 10 === 0) await idem.begin(request(key, undefined, user)); // replay
        if (i % 10 === 0) await idem.begin(request(key, '{"other":1}', user)); // mismatch
      }
      if (i % 1_000 === 0) {
        store.fail('claim', 'reject', 1);
        await idem.begin(request(`${key}-down`, undefined, user));
      }
    }
    expect(records.length).toBeGreaterThan(3_000);
    const kinds = new Set(
      records.map((item) =>
        JSON.stringify([item.event, item.severity, item.policy, item.attributes]),
      ),
    );
    expect(kinds.size).toBe(4);
    const text = JSON.stringify(records.map(({ error: _error, ...rest }) => rest));
    expect(text).not.toMatch(/order-\d|user-\d|\/orders\/|ref=/);
  });

  it('with no subscriber nothing is built or published', async () => {
    const publish = vi.spyOn(telemetry, 'publish');
    const store = faultyStore(memoryStore());
    const idem = createIdempotency({ store, scope: () => 'u', logger: false });
    const first = await idem.begin(request('k'));
    await idem.begin(request('k'));
    if (first.kind === 'execute' && first.token !== undefined) {
      await idem.complete(first.token, created);
    }
    await idem.begin(request('k'));
    store.fail('all', 'reject');
    await idem.begin(request('k2'));
    expect(telemetry.hasSubscribers).toBe(false);
    expect(publish).not.toHaveBeenCalled();
  });

  it('validates the name option', () => {
    expect(() => createIdempotency({ store: memoryStore(), name: 5 as never })).toThrow(TypeError);
    expect(() => createIdempotency({ store: memoryStore(), name: 5 as never })).toThrow(
      /createIdempotency: option "name"/,
    );
  });
});
