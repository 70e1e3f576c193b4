import { VirtualClock } from '@faultline/clock';
import { seededRandom } from '@faultline/core';
import { describe, expect, it } from 'vitest';
import {
  bimodal,
  constant,
  type Distribution,
  empirical,
  exponential,
  lognormal,
  normal,
  uniform,
} from './distribution.js';
import { SimClock, simulate } from './engine.js';
import { closedLoop, openLoop } from './load.js';
import { Metrics, percentile, timeToRecover } from './metrics.js';
import { Network } from './network.js';
import { Server, ServerError } from './server.js';

const sampleMean = (d: Distribution, n = 100_000): number => {
  const random = seededRandom(3);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += d.sample(random);
  return sum / n;
};

describe('distributions', () => {
  it.each([
    ['constant', constant(7), 7],
    ['uniform', uniform(2, 4), 3],
    ['exponential', exponential(10), 10],
    ['lognormal', lognormal({ median: 50, sigma: 0.5 }), 50 * Math.exp(0.125)],
    ['bimodal', bimodal(constant(10), constant(100), 0.1), 19],
    ['empirical', empirical([1, 2, 3, 10]), (1.5 + 2.5 + 6.5) / 3],
  ] as const)('%s: sample mean matches the stated mean', (_, d, mean) => {
    expect(d.mean).toBeCloseTo(mean, 6);
    expect(sampleMean(d)).toBeCloseTo(mean, mean > 10 ? 0 : 1);
  });

  it('normal is |N(mean, sd)|: never negative, mean and spread as Brooker’s hop model', () => {
    const d = normal(10, 2);
    const random = seededRandom(1);
    const draws = Array.from({ length: 100_000 }, () => d.sample(random));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(mean).toBeCloseTo(10, 1);
    expect(sd).toBeCloseTo(2, 1);
    expect(
      Math.min(...Array.from({ length: 10_000 }, () => normal(0, 1).sample(random))),
    ).toBeGreaterThanOrEqual(0);
  });

  it('empirical draws stay within the measured range', () => {
    const d = empirical([5, 1, 9]);
    const random = seededRandom(2);
    for (let i = 0; i < 1000; i++) {
      const v = d.sample(random);
      expect(v).toBeGreaterThanOrEqual(1);
      expect(v).toBeLessThanOrEqual(9);
    }
    expect(empirical([4]).sample(random)).toBe(4);
  });

  it.each([
    ['constant value', () => constant('1' as never), TypeError],
    ['constant value range', () => constant(-1), RangeError],
    ['uniform min', () => uniform(Number.NaN, 1), TypeError],
    ['uniform max range', () => uniform(5, 1), RangeError],
    ['normal mean', () => normal('x' as never, 1), TypeError],
    ['normal sd range', () => normal(1, -1), RangeError],
    ['exponential mean', () => exponential(null as never), TypeError],
    ['exponential mean range', () => exponential(0), RangeError],
    ['lognormal options', () => lognormal(3 as never), TypeError],
    ['lognormal median', () => lognormal({ median: 'a' as never, sigma: 1 }), TypeError],
    ['lognormal median range', () => lognormal({ median: 0, sigma: 1 }), RangeError],
    ['lognormal sigma', () => lognormal({ median: 1, sigma: undefined as never }), TypeError],
    ['lognormal sigma range', () => lognormal({ median: 1, sigma: -1 }), RangeError],
    ['bimodal fast', () => bimodal({} as never, constant(1), 0.5), TypeError],
    ['bimodal slow', () => bimodal(constant(1), 3 as never, 0.5), TypeError],
    ['bimodal p', () => bimodal(constant(1), constant(2), '1' as never), TypeError],
    ['bimodal p range', () => bimodal(constant(1), constant(2), 1.5), RangeError],
    ['empirical values', () => empirical('x' as never), TypeError],
    ['empirical values empty', () => empirical([]), TypeError],
    ['empirical values range', () => empirical([1, -2]), RangeError],
  ])('%s is validated', (_, build, Kind) => {
    expect(build).toThrow(Kind);
  });
});

describe('Network', () => {
  const random = seededRandom(1);
  it.each([
    ['options', () => new Network(new SimClock(), random, 3 as never), TypeError],
    ['latency', () => new Network(new SimClock(), random, { latency: 5 as never }), TypeError],
    [
      'latency sampler',
      () =>
        new Network(new SimClock(), random, {
          latency: { sample: () => 1, mean: 1, label: 'one', sampler: 3 as never },
        }),
      TypeError,
    ],
    ['drop', () => new Network(new SimClock(), random, { drop: 'x' as never }), TypeError],
    ['drop range', () => new Network(new SimClock(), random, { drop: 2 }), RangeError],
    [
      'duplicate',
      () => new Network(new SimClock(), random, { duplicate: null as never }),
      TypeError,
    ],
    ['duplicate range', () => new Network(new SimClock(), random, { duplicate: -0.1 }), RangeError],
    ['reorder', () => new Network(new SimClock(), random, { reorder: '1' as never }), TypeError],
    ['reorder range', () => new Network(new SimClock(), random, { reorder: 1.1 }), RangeError],
  ])('%s is validated', (_, build, Kind) => {
    expect(build).toThrow(Kind);
  });

  it('delays each hop, loses, duplicates and reorders messages', async () => {
    const [result] = await simulate([
      {
        setup(clock) {
          const lossy = new Network(clock, seededRandom(4), { latency: constant(5), drop: 0.5 });
          const doubled = new Network(clock, seededRandom(4), {
            latency: constant(5),
            duplicate: 1,
          });
          const reordered = new Network(clock, seededRandom(4), {
            latency: constant(5),
            reorder: 1,
          });
          let answered = 0;
          let handled = 0;
          const times: number[] = [];
          for (let i = 0; i < 1000; i++) {
            lossy.call<number>((respond) => respond(undefined, 1)).then(() => answered++);
          }
          doubled.call<number>((respond) => {
            handled++;
            respond(undefined, 1);
          });
          reordered
            .call<number>((respond) => respond(undefined, 2))
            .then(() => times.push(clock.now()));
          new Network(clock, seededRandom(1), { latency: constant(5) })
            .call<number>((respond) => respond(new ServerError(503, 'no')))
            .catch((error: ServerError) => times.push(error.status));
          return {
            result: () => ({ answered, handled, times, dropped: lossy.dropped, sent: lossy.sent }),
          };
        },
      },
    ]);
    // A round trip survives two independent 50 % losses a quarter of the time.
    expect(result!.answered).toBeGreaterThan(200);
    expect(result!.answered).toBeLessThan(300);
    expect(result!.handled).toBe(2);
    expect(result!.times).toEqual([503, 20]);
  });

  it('post delivers like send (delay, loss), on the simulator clock and on any other Clock', async () => {
    const deliveries = (clock: SimClock): { times: number[]; network: Network } => {
      const network = new Network(clock, seededRandom(9), { latency: constant(5), drop: 0.5 });
      const times: number[] = [];
      for (let i = 0; i < 100; i++) {
        network.post((hop: number) => {
          times.push(clock.now());
          if (hop === 0) network.post(() => times.push(-clock.now()), 1);
        }, 0);
      }
      return { times, network };
    };
    const [simulated] = await simulate([
      {
        setup(clock) {
          const { times, network } = deliveries(clock);
          return { result: () => ({ times, dropped: network.dropped, sent: network.sent }) };
        },
      },
    ]);
    const virtual = new VirtualClock();
    const { times, network } = deliveries(virtual as unknown as SimClock);
    await virtual.runAll();
    expect({ times, dropped: network.dropped, sent: network.sent }).toEqual(simulated);
    expect(simulated!.dropped).toBeGreaterThan(30);
    expect(new Set(simulated!.times)).toEqual(new Set([5, -10]));
  });

  it('a call abandoned through its signal rejects with the reason and removes its listener', async () => {
    const clock = new SimClock();
    const network = new Network(clock, seededRandom(1), { latency: constant(5) });
    const controller = new AbortController();
    const call = network.call((respond) => respond(undefined, 1), controller.signal);
    controller.abort(new Error('gone'));
    await expect(call).rejects.toThrow('gone');
    await expect(network.call(() => {}, controller.signal)).rejects.toThrow('gone');
  });
});

describe('Server', () => {
  const random = seededRandom(1);
  it.each([
    ['options', { concurrency: 'x' }, TypeError],
    ['concurrency range', { concurrency: 0 }, RangeError],
    ['queueLimit', { queueLimit: 'x' }, TypeError],
    ['queueLimit range', { queueLimit: -1 }, RangeError],
    ['serviceTime', { serviceTime: 10 }, TypeError],
    ['failureProbability', { failureProbability: '0' }, TypeError],
    ['failureProbability range', { failureProbability: 2 }, RangeError],
    ['incidents', { incidents: 'x' }, TypeError],
    ['incident kind', { incidents: [{ kind: 'meteor', start: 0, duration: 1 }] }, RangeError],
    ['incident start', { incidents: [{ kind: 'outage', start: -1, duration: 1 }] }, RangeError],
    ['incident duration', { incidents: [{ kind: 'outage', start: 0, duration: 'x' }] }, TypeError],
    [
      'incident mode',
      { incidents: [{ kind: 'outage', start: 0, duration: 1, mode: 'boom' }] },
      RangeError,
    ],
    [
      'incident probability',
      { incidents: [{ kind: 'outage', start: 0, duration: 1, probability: 3 }] },
      RangeError,
    ],
    [
      'brownout factor',
      { incidents: [{ kind: 'brownout', start: 0, duration: 1, factor: -2 }] },
      RangeError,
    ],
    ['collapse factor', { incidents: [{ kind: 'collapse', start: 0, duration: 1 }] }, TypeError],
    ['onReceive', { onReceive: 1 }, TypeError],
  ])('%s is validated', (_, options, Kind) => {
    expect(() => new Server(new SimClock(), random, options as never)).toThrow(Kind);
  });

  it('serves `concurrency` at a time, queues up to `queueLimit`, rejects the rest', async () => {
    const [result] = await simulate([
      {
        setup(clock) {
          const server = new Server(clock, seededRandom(1), {
            concurrency: 2,
            queueLimit: 1,
            serviceTime: constant(10),
          });
          const ends: Array<number | string> = [];
          for (let i = 0; i < 4; i++) {
            server.handle((error) =>
              ends.push(error === undefined ? clock.now() : (error as ServerError).status),
            );
          }
          return { result: () => ({ ends, served: server.served, rejected: server.rejected }) };
        },
      },
    ]);
    expect(result).toEqual({ ends: [503, 10, 10, 20], served: 3, rejected: 1 });
  });

  it('models outages (errors, black hole), brownouts and overload collapse', async () => {
    const [result] = await simulate([
      {
        setup(clock) {
          const at = (incident: object): Server =>
            new Server(clock, seededRandom(1), {
              concurrency: 1,
              serviceTime: constant(10),
              incidents: [incident as never],
            });
          const errors = at({ kind: 'outage', start: 0, duration: 100 });
          const hole = at({ kind: 'outage', start: 0, duration: 100, mode: 'black-hole' });
          const slow = at({ kind: 'brownout', start: 0, duration: 100, factor: 3 });
          const collapse = at({ kind: 'collapse', start: 0, duration: 100, factor: 1 });
          const log: string[] = [];
          errors.handle((error) =>
            log.push(`errors ${(error as ServerError).status} at ${clock.now()}`),
          );
          hole.handle(() => log.push('black hole answered'));
          slow.handle(() => log.push(`brownout at ${clock.now()}`));
          for (let i = 0; i < 3; i++) collapse.handle(() => log.push(`collapse at ${clock.now()}`));
          return { result: () => log };
        },
      },
    ]);
    // Collapse (factor 1, concurrency 1): the first request starts with an empty queue (10 ms);
    // the second starts with one still queued behind it (×2: 20 ms); the third alone (10 ms).
    expect(result).toEqual([
      'errors 503 at 0',
      'collapse at 10',
      'brownout at 30',
      'collapse at 30',
      'collapse at 40',
    ]);
  });
});

describe('load and metrics', () => {
  it.each([
    [
      'openLoop options',
      () => openLoop(new SimClock(), Math.random, 1 as never, async () => {}),
      TypeError,
    ],
    [
      'openLoop rate',
      () => openLoop(new SimClock(), Math.random, { rate: 'x' as never, until: 1 }, async () => {}),
      TypeError,
    ],
    [
      'openLoop rate range',
      () => openLoop(new SimClock(), Math.random, { rate: 0, until: 1 }, async () => {}),
      RangeError,
    ],
    [
      'openLoop until',
      () => openLoop(new SimClock(), Math.random, { rate: 1, until: 'x' as never }, async () => {}),
      TypeError,
    ],
    [
      'openLoop start range',
      () => openLoop(new SimClock(), Math.random, { rate: 1, until: 1, start: -1 }, async () => {}),
      RangeError,
    ],
    [
      'closedLoop clients',
      () =>
        closedLoop(
          new SimClock(),
          Math.random,
          { clients: 'x' as never, until: 1 },
          async () => {},
        ),
      TypeError,
    ],
    [
      'closedLoop clients range',
      () => closedLoop(new SimClock(), Math.random, { clients: 0, until: 1 }, async () => {}),
      RangeError,
    ],
    [
      'closedLoop until range',
      () => closedLoop(new SimClock(), Math.random, { clients: 1, until: -1 }, async () => {}),
      RangeError,
    ],
    [
      'closedLoop think',
      () =>
        closedLoop(
          new SimClock(),
          Math.random,
          { clients: 1, until: 1, think: 3 as never },
          async () => {},
        ),
      TypeError,
    ],
    ['Metrics bucket', () => new Metrics({ bucket: 'x' as never }), TypeError],
    ['Metrics bucket range', () => new Metrics({ bucket: 0 }), RangeError],
  ])('%s is validated', (_, build, Kind) => {
    expect(build).toThrow(Kind);
  });

  it('open loop arrives as a Poisson process at the rate; closed loop keeps N requests out', async () => {
    const [result] = await simulate([
      {
        setup(clock) {
          const random = seededRandom(9);
          const open = new Metrics();
          const closed = new Metrics();
          openLoop(clock, random, { rate: 500, until: 10_000 }, () => clock.sleep(3), open);
          closedLoop(
            clock,
            random,
            { clients: 4, think: constant(10), until: 10_000 },
            () => clock.sleep(10),
            closed,
          );
          return {
            until: 11_000,
            result: () => ({ open: open.summary(10_000), closed: closed.summary(10_000) }),
          };
        },
      },
    ]);
    expect(result!.open.offered).toBeGreaterThan(4800);
    expect(result!.open.offered).toBeLessThan(5200);
    expect(result!.open.p50).toBe(3);
    // Each of 4 clients: 10 ms request + 10 ms think → 50 requests/s each.
    expect(result!.closed.offered).toBe(2000);
    expect(result!.closed.goodput).toBeCloseTo(200, 0);
  });

  it('percentiles, buckets, amplification and time to recover', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(percentile([], 0.5)).toBeNaN();
    const metrics = new Metrics({ bucket: 1000 });
    for (let s = 0; s < 10; s++) {
      const down = s >= 4 && s < 6;
      for (let i = 0; i < 100; i++) {
        const t = s * 1000 + i;
        metrics.offer(t);
        metrics.attempt(t);
        if (down) metrics.attempt(t);
        // Goodput returns to normal only from second 7.
        metrics.complete(t, t + 5, !down && s !== 6);
      }
    }
    const summary = metrics.summary(10_000);
    expect(summary.buckets).toHaveLength(10);
    expect(summary.amplification).toBeCloseTo(1.2, 6);
    expect(summary.buckets[4]!.amplification).toBe(2);
    expect(summary.buckets[0]!.goodput).toBe(100);
    expect(timeToRecover(summary.buckets, { start: 4000, end: 6000 })).toBe(1000);
    expect(timeToRecover(summary.buckets, { start: 0, end: 6000 })).toBeNull();
  });
});
