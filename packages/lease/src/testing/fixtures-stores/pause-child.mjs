// One of the two processes of src/stores/pause.test.ts, over the *built* package (dist/).
// Configured by environment variables:
//   STORE=redis|postgres, STORE_URL, PREFIX (Redis lease prefix) or TABLE (PostgreSQL lease
//   table), FENCE (Redis fenced hash key, or PostgreSQL fence table), DATA (PostgreSQL data
//   table), RESOURCE, TTL (ms), ROUNDS, ROLE=holder|taker.
// Both do a read-modify-write of a shared counter under the lease, fenced at every access.
// holder: each round acquires, reads the counter (fenced), checks its lease is valid, prints
//   "holder checked <round> <token>" and stops itself (SIGSTOP) between the check and the write,
//   as a GC pause would; the test continues it (SIGCONT) after the taker wrote. It then writes
//   (as an unsafe client would: it checked before the pause) and prints
//   "holder result <round> accepted|rejected <remaining> <aborted> <reason>".
// taker: on each SIGUSR2 acquires (waiting for the holder's lease to expire on the store), reads
//   and writes the counter, releases, and prints "taker wrote <round> <token> <value> <waitedMs>".
import { createLease, FencedOutError } from '@faultline/lease';
import { connect } from './connect.mjs';

const env = process.env;
const ttl = Number(env.TTL);
const rounds = Number(env.ROUNDS);

const { store, pool, client, close } = await connect(env);
let read;
let write;
if (pool !== undefined) {
  const { fencedTransaction } = await import('@faultline/lease/postgres');
  const fence = (token, fn) =>
    fencedTransaction(pool, { table: env.FENCE, resource: env.RESOURCE, token }, fn);
  read = (token) =>
    fence(token, async (c) => {
      const { rows } = await c.query(`SELECT n FROM "${env.DATA}" WHERE id = 1`);
      return rows[0].n;
    });
  write = (token, n) =>
    fence(token, (c) => c.query(`UPDATE "${env.DATA}" SET n = $1 WHERE id = 1`, [n]));
} else {
  const { fencedGet, fencedSet } = await import('@faultline/lease/redis');
  read = async (token) => Number((await fencedGet(client, { key: env.FENCE, token })) ?? '0');
  write = (token, n) => fencedSet(client, { key: env.FENCE, value: String(n), token });
}

// A margin of 50 ms: the lease is locally valid for about ttl − 50 ms after the request left.
const lease = createLease({ store, resource: env.RESOURCE, ttl, safetyMargin: 50 });
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Acquires, trying again if a grant arrives too late to be valid on a loaded machine. */
async function acquire() {
  for (let attempt = 0; ; attempt++) {
    try {
      return await lease.acquire({ wait: 20_000 });
    } catch (error) {
      if (attempt >= 20 || error?.code !== 'LEASE_EXPIRED') throw error;
    }
  }
}

if (env.ROLE === 'holder') {
  for (let round = 1; round <= rounds; round++) {
    const held = await acquire();
    const n = await read(held.token);
    if (held.remaining() <= 0) throw new Error('the lease expired before the pause');
    console.log(`holder checked ${round} ${held.token}`);
    process.kill(process.pid, 'SIGSTOP'); // the pause: between the validity check and the write
    const remaining = held.remaining();
    await tick(); // the lease's own timers run as soon as the process does
    const reason = held.signal.reason?.name ?? '-';
    const aborted = held.signal.aborted;
    let result;
    try {
      await write(held.token, n + 1);
      result = 'accepted';
    } catch (error) {
      if (!(error instanceof FencedOutError)) throw error;
      result = 'rejected';
    }
    await held.release().catch(() => {});
    console.log(`holder result ${round} ${result} ${remaining} ${aborted} ${reason}`);
  }
  await close();
  globalThis.lastCall?.();
} else {
  let round = 0;
  let pending = Promise.resolve();
  const keepAlive = setInterval(() => {}, 60_000);
  const takeOver = async (r) => {
    const started = performance.now();
    const held = await acquire();
    const waited = Math.round(performance.now() - started);
    const n = await read(held.token);
    await write(held.token, n + 1);
    await held.release();
    console.log(`taker wrote ${r} ${held.token} ${n + 1} ${waited}`);
    if (r === rounds) {
      clearInterval(keepAlive);
      process.removeAllListeners('SIGUSR2');
      await close();
      globalThis.lastCall?.();
    }
  };
  process.on('SIGUSR2', () => {
    round++;
    const r = round;
    pending = pending.then(() => takeOver(r));
    pending.catch((error) => {
      console.error(error);
      process.exit(1);
    });
  });
  console.log('taker ready');
}
