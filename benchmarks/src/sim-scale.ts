/**
 * What the simulator costs as the client population grows: a closed-loop scenario (each client
 * sends a request through the real `retry` + `timeout` policies, waits for it, thinks for an
 * exponential 1 s, and again) with 100, 1 000 and 10 000 clients on a server sized for 80 %
 * utilisation (service exponential 20 ms, one worker per 40 clients), 20 s of simulated time.
 *
 * Printed per population: events (timers fired), wall and CPU time, events per CPU second and
 * CPU ns per event, medians of interleaved rounds. A discrete-event simulation with a binary heap
 * costs O(log pending) per event, so ns/event may grow with log(pending timers), no faster
 * ("no worse than n log n in the number of events"). Results: `results/sim-scale.json`.
 *
 * Run: `npx tsc -b benchmarks && node benchmarks/dist/sim-scale.js [rounds]`
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from '@faultline/core';
import { exponential as backoff, retry } from '@faultline/retry';
import { distributions, type SimulationRun, serviceRun, simulate } from '@faultline/sim';
import { timeout } from '@faultline/timeout';
import { isMainModule, median } from './figures.js';

export interface ScaleRow {
  readonly clients: number;
  readonly events: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly eventsPerSecond: number;
  readonly nsPerEvent: number;
  readonly requests: number;
}

const SIMULATED_MS = 20_000;

/** The closed-loop run with `clients` clients; its result carries the event count. */
export function scaleRun(
  clients: number,
  seed = 1,
): SimulationRun<{ events: number; requests: number }> {
  const run = serviceRun({
    seed,
    until: SIMULATED_MS,
    server: {
      concurrency: Math.max(1, Math.ceil(clients / 40)),
      queueLimit: clients,
      serviceTime: distributions.exponential(20),
    },
    network: { latency: distributions.normal(1, 0.2) },
    load: { kind: 'closed', clients, think: distributions.exponential(1_000) },
    policy: ({ clock, random }) =>
      pipeline(
        retry({ maxAttempts: 3, backoff: backoff({ initial: 50, max: 1_000 }), clock, random }),
        timeout(1_000, { clock }),
      ),
  });
  return {
    setup(clock) {
      const handle = run.setup(clock);
      return {
        until: handle.until ?? SIMULATED_MS,
        result: (c) => ({ events: c.firedTimers, requests: handle.result(c).metrics.offered }),
      };
    },
  };
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function measure(clients: number): Promise<ScaleRow> {
  const wall = performance.now();
  const cpu = cpuMs();
  const [result] = await simulate([scaleRun(clients)], { concurrency: 1 });
  const cpuSpent = cpuMs() - cpu;
  const wallSpent = performance.now() - wall;
  return {
    clients,
    events: result!.events,
    wallMs: wallSpent,
    cpuMs: cpuSpent,
    eventsPerSecond: result!.events / (cpuSpent / 1000),
    nsPerEvent: (cpuSpent * 1e6) / result!.events,
    requests: result!.requests,
  };
}

/** Interleaved rounds (100, 1 000, 10 000, 100, …); the median per population. */
export async function runScale(
  rounds = 3,
  populations = [100, 1_000, 10_000],
): Promise<ScaleRow[]> {
  await measure(100); // warm-up
  const samples = new Map<number, ScaleRow[]>(populations.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (const clients of populations) samples.get(clients)!.push(await measure(clients));
  }
  return populations.map((clients) => {
    const rows = samples.get(clients)!;
    const pick = (key: keyof ScaleRow) => median(rows.map((r) => r[key]));
    return {
      clients,
      events: pick('events'),
      wallMs: pick('wallMs'),
      cpuMs: pick('cpuMs'),
      eventsPerSecond: pick('eventsPerSecond'),
      nsPerEvent: pick('nsPerEvent'),
      requests: pick('requests'),
    };
  });
}

if (isMainModule(import.meta.url)) {
  const rounds = Number(process.argv[2] ?? 3);
  const rows = await runScale(rounds);
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(8) : c.padStart(13))).join('  ');
  console.log(
    `simulator cost, closed loop, ${SIMULATED_MS / 1000} s simulated, median of ${rounds} interleaved rounds`,
  );
  console.log(
    line(['clients', 'requests', 'events', 'wall (s)', 'cpu (s)', 'events/cpu s', 'cpu ns/event']),
  );
  for (const r of rows) {
    console.log(
      line([
        String(r.clients),
        String(r.requests),
        String(r.events),
        (r.wallMs / 1000).toFixed(2),
        (r.cpuMs / 1000).toFixed(2),
        Math.round(r.eventsPerSecond).toLocaleString('en-US'),
        r.nsPerEvent.toFixed(0),
      ]),
    );
  }
  const [small, , large] = rows;
  if (small !== undefined && large !== undefined) {
    // n log n: cost per event may grow like log(events); report how it actually grew.
    const allowed = Math.log(large.events) / Math.log(small.events);
    console.log(
      `ns/event grew ${(large.nsPerEvent / small.nsPerEvent).toFixed(2)}× from ${small.clients} to ${large.clients} clients (log n allows ${allowed.toFixed(2)}×)`,
    );
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const out = join(here, '..', 'results', 'sim-scale.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ simulatedMs: SIMULATED_MS, rounds, rows }, null, 2)}\n`);
  console.log(`written to ${out}`);
}
