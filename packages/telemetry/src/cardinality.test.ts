import { circuitBreaker, consecutiveFailures } from '@faultline/breaker';
import { named, pipeline } from '@faultline/core';
import { createIdempotency, memoryStore } from '@faultline/idempotency';
import { withIdempotency } from '@faultline/idempotency/node';
import { constant, retry } from '@faultline/retry';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { instrumentOpenTelemetry } from './opentelemetry.js';
import { instrumentPrometheus } from './prometheus.js';
import { disposeAfter, serveLocal } from './testing/serve.js';

const disposers = disposeAfter('all');

/** Metric series (data points, one per attribute set) in the provider, per metric. */
async function seriesCount(
  reader: PeriodicExportingMetricReader,
  exporter: InMemoryMetricExporter,
) {
  await reader.forceFlush();
  const last = exporter.getMetrics().at(-1);
  const counts: Record<string, number> = {};
  for (const scope of last?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) counts[metric.descriptor.name] = metric.dataPoints.length;
  }
  return counts;
}

function promSeries(text: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith('faultline_') && !line.includes('_bucket{')).length;
}

describe('bounded cardinality', () => {
  it('10 000 distinct idempotency keys and URLs through the middleware add no metric series', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    disposers.push(() => meterProvider.shutdown());
    disposers.push(instrumentOpenTelemetry({ meterProvider, tracerProvider: null }).disable);
    const registry = new Registry();
    disposers.push(instrumentPrometheus({ registry }).disable);

    // The handler calls a downstream through a named pipeline; a third of the calls fail once
    // with an error whose message holds the request's URL (which must never become a label).
    const downstream = named(
      'ledger',
      pipeline(
        retry({ maxAttempts: 2, backoff: constant(0), name: 'ledger-retry' }),
        circuitBreaker({ trip: consecutiveFailures(1_000_000), name: 'ledger-breaker' }),
      ),
    );
    let calls = 0;
    const handler = withIdempotency(
      async (req, res) => {
        const url = req.url ?? '/';
        let failed = false;
        await downstream.execute(
          () => {
            calls++;
            if (calls % 3 === 0 && !failed) {
              failed = true;
              throw new TypeError(
                `ledger refused ${url} for key ${req.headers['idempotency-key']}`,
              );
            }
            return 'ok';
          },
          { operation: 'POST /orders/:id' },
        );
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url }));
      },
      createIdempotency({ store: memoryStore(), scope: () => 'tenant' }),
    );
    const base = await serveLocal((req, res) => {
      handler(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    }, disposers);
    const statuses = new Map<number, number>();
    const send = async (i: number, key: string, body: string) => {
      const response = await fetch(`${base}/orders/${i}?ref=${i}`, {
        method: 'POST',
        headers: { 'idempotency-key': key, 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    };
    /** Request i: a fresh key; every 25th also replays it, and sends it again with another body. */
    const request = async (i: number) => {
      const key = `order-${i}-${Math.random().toString(36).slice(2)}`;
      await send(i, key, `{"n":${i}}`);
      if (i % 25 === 0) {
        await send(i, key, `{"n":${i}}`); // replay
        await send(i, key, `{"n":${-i}}`); // same key, another body: a conflict
      }
    };
    const run = async (from: number, to: number) => {
      let next = from;
      const worker = async () => {
        while (next < to) await request(next++);
      };
      await Promise.all(Array.from({ length: 16 }, worker));
    };

    await run(0, 200);
    const early = await seriesCount(reader, exporter);
    const earlyProm = promSeries(await registry.metrics());
    await run(200, 10_000);
    const late = await seriesCount(reader, exporter);
    const lateText = await registry.metrics();

    expect(statuses.get(201)).toBeGreaterThanOrEqual(10_000);
    expect(early['faultline.resilience.events']).toBeGreaterThan(0);
    expect(late).toEqual(early);
    expect(promSeries(lateText)).toBe(earlyProm);
    expect(lateText).not.toMatch(/order-\d|\/orders\/\d|ref=/);
  }, 120_000);
});
