import { Deadline, VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { deadlineFromHeaders, deadlineToHeaders } from './headers.js';

describe('deadline headers', () => {
  it('sends the remaining time in grpc-timeout form and as plain ms, minus the margin', async () => {
    const clock = new VirtualClock();
    const deadline = Deadline.after(1500, clock);
    await clock.advance(200);
    expect(deadlineToHeaders(deadline)).toEqual({
      'grpc-timeout': '1300000u',
      'x-request-timeout-ms': '1300',
    });
    expect(deadlineToHeaders(deadline, { margin: 50 })).toEqual({
      'grpc-timeout': '1250000u',
      'x-request-timeout-ms': '1250',
    });
    expect(deadlineToHeaders(deadline, { margin: 5000 })).toEqual({
      'grpc-timeout': '0n',
      'x-request-timeout-ms': '0',
    });
    expect(deadlineToHeaders(deadline, { grpcHeader: false, msHeader: 'x-timeout' })).toEqual({
      'x-timeout': '1300',
    });
  });

  it('sends nothing for Deadline.never', () => {
    expect(deadlineToHeaders(Deadline.never)).toEqual({});
  });

  it('receives a deadline from Node-style, fetch-style and mixed-case headers', () => {
    const clock = new VirtualClock(1000);
    expect(deadlineFromHeaders({ 'grpc-timeout': '300m' }, { clock })?.remaining()).toBe(300);
    expect(deadlineFromHeaders({ 'x-request-timeout-ms': '250' }, { clock })?.remaining()).toBe(
      250,
    );
    const fetchHeaders = new Headers({ 'Grpc-Timeout': '2S' });
    expect(deadlineFromHeaders(fetchHeaders, { clock })?.remaining()).toBe(2000);
    expect(deadlineFromHeaders({ 'GRPC-TIMEOUT': '1M' }, { clock })?.remaining()).toBe(60_000);
    expect(deadlineFromHeaders({ 'grpc-timeout': ['5m', '9m'] }, { clock })?.remaining()).toBe(5);
  });

  it('takes the earliest of both forms, subtracts the margin, ignores malformed values', () => {
    const clock = new VirtualClock();
    const both = { 'grpc-timeout': '300m', 'x-request-timeout-ms': '200' };
    expect(deadlineFromHeaders(both, { clock })?.remaining()).toBe(200);
    expect(deadlineFromHeaders(both, { clock, margin: 20 })?.remaining()).toBe(180);
    expect(deadlineFromHeaders(both, { clock, margin: 500 })?.remaining()).toBe(0);
    expect(deadlineFromHeaders({ 'grpc-timeout': '1.5S' }, { clock })).toBeUndefined();
    expect(
      deadlineFromHeaders(
        { 'grpc-timeout': 'soon', 'x-request-timeout-ms': '40' },
        { clock },
      )?.remaining(),
    ).toBe(40);
    expect(deadlineFromHeaders({}, { clock })).toBeUndefined();
  });

  it('round-trips through the wire', async () => {
    const clock = new VirtualClock();
    const sent = deadlineToHeaders(Deadline.after(4321.5, clock), { margin: 21.5 });
    expect(deadlineFromHeaders(sent, { clock })?.remaining()).toBe(4300);
  });

  it('validates options: wrong type and out of range', () => {
    const deadline = Deadline.after(10);
    expect(() => deadlineToHeaders(deadline, { margin: '5' as never })).toThrow(TypeError);
    expect(() => deadlineToHeaders(deadline, { margin: -1 })).toThrow(RangeError);
    expect(() => deadlineToHeaders(deadline, { grpcHeader: 5 as never })).toThrow(TypeError);
    expect(() => deadlineToHeaders(deadline, { msHeader: '' })).toThrow(TypeError);
    expect(() => deadlineToHeaders(deadline, 'x' as never)).toThrow(TypeError);
    expect(() => deadlineToHeaders(10 as never)).toThrow(TypeError);
    expect(() => deadlineFromHeaders({}, { margin: Number.NaN })).toThrow(TypeError);
    expect(() => deadlineFromHeaders({}, { margin: -5 })).toThrow(RangeError);
    expect(() => deadlineFromHeaders({}, { clock: {} as never })).toThrow(TypeError);
    expect(() => deadlineFromHeaders('grpc-timeout: 1S' as never)).toThrow(TypeError);
  });
});
