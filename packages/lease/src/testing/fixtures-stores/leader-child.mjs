// One of the three candidates of src/stores/leader.test.ts, over the *built* package (dist/).
// Configured by environment variables:
//   STORE=redis|postgres, STORE_URL, PREFIX (Redis lease prefix) or TABLE (PostgreSQL lease
//   table), FENCE (Redis fenced hash key, or PostgreSQL fence table), LOG (Redis list in the
//   fenced key's slot, or PostgreSQL log table), RESOURCE, NAME, TTL, RETRY (ms).
// Runs a leaderElection; while it leads, writes "<name> <token>" to a log every 40 ms through the
// fence, checking its lease only *after* each write (so the first write after a pause is tried,
// as one already under way would be). Prints (wall-clock ms first):
//   "<t> elected <name> <token> <sentAt> <lag>" (sentAt: wall-clock ms at which the acquire that
//   won was sent; lag: how late a 20 ms timer of this process fired at worst over the last
//   second, not counting its own stop before a demotion, ms: how late its retry pauses may have
//   fired on a loaded machine),
//   "<t> demoted <name> <reason>",
//   "<t> write <name> <token> accepted|rejected".
// On SIGUSR2 stops the election and exits.
import { createLease, FencedOutError, leaderElection } from '@faultline/lease';
import { connect } from './connect.mjs';

const env = process.env;
const name = env.NAME;

const { store, pool, client, close } = await connect(env);
let write;
if (pool !== undefined) {
  const { fencedTransaction } = await import('@faultline/lease/postgres');
  write = (token) =>
    fencedTransaction(pool, { table: env.FENCE, resource: env.RESOURCE, token }, (c) =>
      c.query(`INSERT INTO "${env.LOG}" (name, token) VALUES ($1, $2)`, [name, String(token)]),
    );
} else {
  const { fencedEval, fencedScript } = await import('@faultline/lease/redis');
  const append = fencedScript(`return redis.call('RPUSH', KEYS[2], ARGV[2])`);
  write = (token) =>
    fencedEval(client, {
      key: env.FENCE,
      token,
      script: append,
      keys: [env.LOG],
      args: [`${name} ${token}`],
    });
}

const ttl = Number(env.TTL);
const lease = createLease({
  store,
  resource: env.RESOURCE,
  ttl,
  safetyMargin: 50,
  retryInterval: Number(env.RETRY),
});
const say = (line) => console.log(`${Date.now()} ${line}`);
// Timer lateness samples [at, late] over the last second.
const lateness = [];
let expected = performance.now() + 20;
const probe = setInterval(() => {
  const now = performance.now();
  lateness.push([now, now - expected]);
  expected = now + 20;
  while (lateness.length > 0 && lateness[0][0] < now - 1_000) lateness.shift();
}, 20);
const lag = () => Math.max(0, ...lateness.map(([, late]) => late));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let leading;
const election = leaderElection({
  lease,
  onElected: (held) => {
    // remaining() = validity − (now − sentAt): so the send time of the winning request is
    const sentAt = Date.now() + held.remaining() - lease.validity;
    say(`elected ${name} ${held.token} ${Math.round(sentAt)} ${Math.round(lag())}`);
    leading = (async () => {
      for (;;) {
        await sleep(40);
        let result;
        try {
          await write(held.token);
          result = 'accepted';
        } catch (error) {
          if (!(error instanceof FencedOutError)) throw error;
          result = 'rejected';
        }
        say(`write ${name} ${held.token} ${result}`);
        if (held.signal.aborted) return;
      }
    })();
  },
  onDemoted: (reason) => {
    // A demotion follows this process's own stop (SIGSTOP): that gap is not timer lateness.
    lateness.length = 0;
    expected = performance.now() + 20;
    say(`demoted ${name} ${reason?.name ?? reason}`);
  },
}).start();

const keepAlive = setInterval(() => {}, 60_000);
await new Promise((resolve) => process.once('SIGUSR2', resolve));
clearInterval(keepAlive);
clearInterval(probe);
await election.stop();
await leading;
await close();
globalThis.lastCall?.();
