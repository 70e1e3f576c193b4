import diagnosticsChannel from 'node:diagnostics_channel';
import { bulkhead, type TelemetryRecord, telemetry } from '@faultline/core';
import { describe, expect, it } from 'vitest';
import { publishDiagnostics, RECORD_CHANNEL } from './node.js';

describe('publishDiagnostics', () => {
  it('forwards every record to diagnostics_channel faultline:record, once, until disabled', async () => {
    const received: TelemetryRecord[] = [];
    const onMessage = (message: unknown) => received.push(message as TelemetryRecord);
    diagnosticsChannel.subscribe(RECORD_CHANNEL, onMessage);
    try {
      expect(telemetry.hasSubscribers).toBe(false);
      const first = publishDiagnostics();
      const second = publishDiagnostics(); // idempotent: still one forwarder
      const full = bulkhead({ limit: 1, name: 'db' });
      let release!: () => void;
      const holder = full.execute(() => new Promise<void>((resolve) => (release = resolve)));
      await full.execute(() => 1).catch(() => {});
      release();
      await holder;
      expect(received.map((r) => (r.type === 'event' ? r.event : r.type))).toEqual([
        'bulkhead-rejected',
        'execution',
        'execution',
      ]);
      first.disable();
      first.disable();
      await full.execute(() => 1);
      expect(received.length).toBe(4);
      second.disable();
      expect(telemetry.hasSubscribers).toBe(false);
      await full.execute(() => 1);
      expect(received.length).toBe(4);
    } finally {
      diagnosticsChannel.unsubscribe(RECORD_CHANNEL, onMessage);
    }
  });
});
