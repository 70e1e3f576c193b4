import { noop, type Policy, pipeline, type TelemetryRecord, telemetry } from '@faultline/core';
import { retry } from '@faultline/retry';
import { describe, expect, it } from 'vitest';
import { policyRegistry } from './policy-registry.js';

describe('policyRegistry', () => {
  it('creates a key’s policy on first use and hands out the same object after', () => {
    const created: string[] = [];
    const registry = policyRegistry({
      create: (key) => {
        created.push(key);
        return pipeline(retry());
      },
    });
    const a = registry.get('api.github.com');
    expect(registry.get('api.github.com')).toBe(a);
    registry.get('api.stripe.com');
    expect(created).toEqual(['api.github.com', 'api.stripe.com']);
    expect(registry.keys()).toEqual(['api.github.com', 'api.stripe.com']);
    expect(registry.size).toBe(2);
    expect(a.describe()).toMatchObject({ name: 'registered', options: { key: 'api.github.com' } });
  });

  it('a reload swaps the policy; calls in flight finish on the old one', async () => {
    const log: string[] = [];
    const tagged = (tag: string): Policy => ({
      execute: async (fn) => {
        log.push(`start ${tag}`);
        const value = await fn({} as never);
        log.push(`end ${tag}`);
        return value;
      },
    });
    let version = 1;
    const registry = policyRegistry({ create: () => tagged(`v${version}`) });
    const handle = registry.get('k');
    let release!: () => void;
    const inFlight = handle.execute(() => new Promise<void>((resolve) => (release = resolve)));
    version = 2;
    const reloads: string[] = [];
    registry.onReload((event) => reloads.push(event.key));
    expect(registry.reload()).toEqual({ reloaded: ['k'], failed: [] });
    await handle.execute(() => undefined);
    release();
    await inFlight;
    expect(log).toEqual(['start v1', 'start v2', 'end v2', 'end v1']);
    expect(reloads).toEqual(['k']);
  });

  it('a reload that throws keeps the old policy and emits an event (and a telemetry record)', async () => {
    const registry = policyRegistry({ create: () => noop, name: 'http' });
    const handle = registry.get('k');
    const failures: unknown[] = [];
    registry.onReloadFailed((event) => failures.push(event));
    const records: TelemetryRecord[] = [];
    const stop = telemetry.subscribe((record) => records.push(record));
    const broken = new Error('bad config');
    try {
      expect(
        registry.reload(() => {
          throw broken;
        }),
      ).toEqual({ reloaded: [], failed: ['k'] });
    } finally {
      stop();
    }
    expect(handle.current).toBe(noop);
    await expect(handle.execute(() => 'still works')).resolves.toBe('still works');
    expect(failures).toEqual([{ key: 'k', error: broken }]);
    expect(records).toMatchObject([
      {
        type: 'event',
        event: 'registry-reload-failed',
        severity: 'warning',
        policy: { kind: 'policy-registry', name: 'http' },
        error: broken,
      },
    ]);
    // The failed factory is not adopted for keys created later either.
    expect(registry.get('later').current).toBe(noop);
  });

  it('a factory that returns no policy is refused', () => {
    const registry = policyRegistry({ create: () => 42 as never });
    expect(() => registry.get('k')).toThrow(/must return a Policy for key "k"/);
    expect(registry.has('k')).toBe(false);
  });

  it('refuses keys beyond maxKeys (keys are hosts or routes, not URLs)', () => {
    const registry = policyRegistry({ create: () => noop, maxKeys: 2 });
    registry.get('a');
    registry.get('b');
    expect(() => registry.get('c')).toThrow(RangeError);
    registry.delete('a');
    expect(registry.get('c')).toBeDefined();
  });

  it('checks its options', () => {
    expect(() => policyRegistry({} as never)).toThrow(/option "create" must be a function/);
    expect(() => policyRegistry({ create: () => noop, maxKeys: 0 })).toThrow(RangeError);
    expect(() => policyRegistry({ create: () => noop, maxKeys: 'x' as never })).toThrow(TypeError);
    expect(() => policyRegistry({ create: () => noop, name: '' })).toThrow(RangeError);
    expect(() => policyRegistry({ create: () => noop }).get(1 as never)).toThrow(TypeError);
    expect(() => policyRegistry({ create: () => noop }).reload(5 as never)).toThrow(TypeError);
  });
});
