import { fileURLToPath } from 'node:url';
import { type NodeChild, promptExitProblem, serviceUrl, startNode } from '@faultline/test-support';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

// Kleppmann's figure with two real processes per store (spec "Proof"): the holder stops itself
// with SIGSTOP between its validity check and its write, past its ttl; the other process takes
// the lease over and does its read-modify-write of a shared counter; the holder is continued
// (SIGCONT) and tries its write with the old token. Over 50 rounds no stale write may be accepted,
// and the holder's signal must be aborted each time it runs again.

const redisUrl = await serviceUrl('redis');
const postgresUrl = await serviceUrl('postgres');
const child = fileURLToPath(new URL('../testing/fixtures-stores/pause-child.mjs', import.meta.url));
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const ROUNDS = 50;
const TTL = 250;

interface Figures {
  readonly store: string;
  readonly rounds: number;
  readonly takerWrites: number;
  readonly staleAccepted: number;
  readonly staleRejected: number;
  readonly signalAborted: number;
  readonly takeoverMs: number[];
  readonly seconds: number;
  readonly finalCounter: number;
}

const figures: Figures[] = [];
afterAll(() => {
  for (const f of figures) {
    const sorted = [...f.takeoverMs].sort((a, b) => a - b);
    console.info(
      `[lease SIGSTOP ${f.store}] ${f.rounds} rounds in ${f.seconds.toFixed(1)} s: stale writes accepted ${f.staleAccepted}, rejected ${f.staleRejected}; holder signal aborted on resume ${f.signalAborted}/${f.rounds}; taker writes ${f.takerWrites}, final counter ${f.finalCounter}; takeover wait p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms (ttl ${TTL})`,
    );
  }
});

async function pauseRounds(
  store: string,
  env: Record<string, string>,
  readCounter: () => Promise<number>,
): Promise<Figures> {
  const started = performance.now();
  const common = { TTL: String(TTL), ROUNDS: String(ROUNDS), RESOURCE: `pause-${run}`, ...env };
  const taker = startNode({ file: child, env: { ...common, ROLE: 'taker' }, timeout: 120_000 });
  let holder: NodeChild | undefined;
  try {
    await taker.waitFor(/^taker ready$/m);
    holder = startNode({ file: child, env: { ...common, ROLE: 'holder' }, timeout: 120_000 });
    let staleAccepted = 0;
    let staleRejected = 0;
    let signalAborted = 0;
    const takeoverMs: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const [, token] = await holder.waitFor(new RegExp(`^holder checked ${round} (\\d+)$`, 'm'));
      // The holder has stopped itself; let the other process take over and write.
      taker.process.kill('SIGUSR2');
      const wrote = await taker.waitFor(
        new RegExp(`^taker wrote ${round} (\\d+) (\\d+) (\\d+)$`, 'm'),
      );
      expect(BigInt(wrote[1]!)).toBeGreaterThan(BigInt(token!));
      takeoverMs.push(Number(wrote[3]));
      holder.process.kill('SIGCONT');
      const [, result, , aborted, reason] = await holder.waitFor(
        new RegExp(`^holder result ${round} (\\w+) (\\S+) (\\w+) (\\S+)$`, 'm'),
      );
      if (result === 'accepted') staleAccepted++;
      else staleRejected++;
      if (aborted === 'true') {
        signalAborted++;
        expect(reason).toBe('LeaseExpiredError');
      }
    }
    const [holderRun, takerRun] = await Promise.all([holder.done, taker.done]);
    for (const done of [holderRun, takerRun]) {
      expect(done.code, done.stderr).toBe(0);
      expect(promptExitProblem(done)).toBeUndefined();
    }
    const result: Figures = {
      store,
      rounds: ROUNDS,
      takerWrites: ROUNDS,
      staleAccepted,
      staleRejected,
      signalAborted,
      takeoverMs,
      seconds: (performance.now() - started) / 1000,
      finalCounter: await readCounter(),
    };
    figures.push(result);
    return result;
  } finally {
    holder?.process.kill('SIGCONT');
    await holder?.stop().catch(() => {});
    await taker.stop().catch(() => {});
  }
}

describe.skipIf(redisUrl === undefined)(
  'two processes on redisLeaseStore, holder SIGSTOPped',
  () => {
    it(`0 stale writes accepted over ${ROUNDS} rounds`, async () => {
      const prefix = `faultline:test:lease-pause:${run}:`;
      const fence = `${prefix}counter`;
      const admin = new Redis(redisUrl!);
      try {
        const result = await pauseRounds(
          'redis',
          { STORE: 'redis', STORE_URL: redisUrl!, PREFIX: prefix, FENCE: fence },
          async () => Number(await admin.hget(fence, 'value')),
        );
        expect(result.staleAccepted).toBe(0);
        expect(result.staleRejected).toBe(ROUNDS);
        expect(result.signalAborted).toBe(ROUNDS);
        expect(result.finalCounter).toBe(ROUNDS); // every increment the storage accepted is there
      } finally {
        const keys = await admin.keys(`${prefix}*`);
        if (keys.length > 0) await admin.del(...keys);
        admin.disconnect();
      }
    }, 120_000);
  },
);

describe.skipIf(postgresUrl === undefined)(
  'two processes on postgresLeaseStore, holder SIGSTOPped',
  () => {
    it(`0 stale writes accepted over ${ROUNDS} rounds`, async () => {
      const table = `fl_pause_lease_${run}`;
      const fence = `fl_pause_fence_${run}`;
      const data = `fl_pause_data_${run}`;
      const admin = new pg.Pool({ connectionString: postgresUrl!, max: 1 });
      admin.on('error', () => {});
      await admin.query(`CREATE TABLE "${data}" (id int PRIMARY KEY, n int NOT NULL)`);
      await admin.query(`INSERT INTO "${data}" VALUES (1, 0)`);
      try {
        const result = await pauseRounds(
          'postgres',
          { STORE: 'postgres', STORE_URL: postgresUrl!, TABLE: table, FENCE: fence, DATA: data },
          async () => (await admin.query(`SELECT n FROM "${data}" WHERE id = 1`)).rows[0].n,
        );
        expect(result.staleAccepted).toBe(0);
        expect(result.staleRejected).toBe(ROUNDS);
        expect(result.signalAborted).toBe(ROUNDS);
        expect(result.finalCounter).toBe(ROUNDS);
      } finally {
        for (const t of [table, fence, data]) await admin.query(`DROP TABLE IF EXISTS "${t}"`);
        await admin.end();
      }
    }, 120_000);
  },
);
