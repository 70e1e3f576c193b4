/**
 * A hand-written discrete-event loop of Brooker's OCC contention model (AWS "Exponential Backoff
 * And Jitter", aws-samples/aws-arch-backoff-simulator), with no faultline code at all: the
 * baseline the real-policy simulation (`sim-contention.ts`) is measured against.
 *
 * Model: N clients each update one row once. A client sends a read (one hop), gets the version
 * back (one hop), sends a conditional write (one hop; a write is a "call"), gets the reply (one
 * hop). A failed write retries: the next read reaches the server after `hop + backoff(n)`, n = 1
 * for the first retry. Every hop is |Normal(10, 2)| ms; base 5 ms, cap 2000 ms. The completion
 * time of a run is the time of the last write reply.
 *
 * Run: `npx tsc -b benchmarks && node benchmarks/dist/contention-handwritten.js`
 */

export type HandStrategy = 'none' | 'exponential' | 'full' | 'equal' | 'decorrelated';

export const handStrategies: readonly HandStrategy[] = [
  'none',
  'exponential',
  'full',
  'equal',
  'decorrelated',
];

export interface HandResult {
  readonly clients: number;
  readonly strategy: HandStrategy;
  readonly calls: number;
  readonly time: number;
}

const BASE = 5;
const CAP = 2000;
enum Kind {
  ReadAtServer = 0,
  ReadReply = 1,
  WriteAtServer = 2,
  WriteReply = 3,
}

/**
 * sfc32 with a splitmix32 seed expansion: a small, fast, seedable generator. The same algorithm
 * as `seededRandom` in `@faultline/core`, copied on purpose: this loop is the baseline the
 * real-policy simulation is measured against, so it uses no faultline code at all (and its
 * figures must not move when core's generator does). It also skips core's 12-output discard, so
 * the streams differ.
 */
function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  const mix = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  };
}

/** One run of the model; returns [calls, completion time]. */
function runOnce(
  clients: number,
  strategy: HandStrategy,
  random: () => number,
  out: { calls: number; time: number },
) {
  // Binary min-heap of events in parallel typed arrays: time, then insertion order for ties.
  // The sifts write the five arrays out by hand: `move(to, from)` / `place(...)` helpers gave
  // the same results but cost 4 % more CPU (5 interleaved rounds, runs 20, medians 2087 vs
  // 2013 ms), and a slower baseline would flatter the simulator's ratio to it.
  const capacity = clients + 1;
  const times = new Float64Array(capacity);
  const seqs = new Float64Array(capacity);
  const owners = new Int32Array(capacity);
  const kinds = new Int8Array(capacity);
  const payloads = new Int32Array(capacity);
  let size = 0;
  let seq = 0;
  const attempts = new Int32Array(clients);
  const decorrelated = new Float64Array(clients).fill(BASE);
  let version = 0;
  let calls = 0;
  let now = 0;
  let spare = Number.NaN;

  const hop = (): number => {
    // Box-Muller, caching the second value.
    let z: number;
    if (!Number.isNaN(spare)) {
      z = spare;
      spare = Number.NaN;
    } else {
      let u = random();
      while (u === 0) u = random();
      const r = Math.sqrt(-2 * Math.log(u));
      const theta = 2 * Math.PI * random();
      z = r * Math.cos(theta);
      spare = r * Math.sin(theta);
    }
    return Math.abs(10 + 2 * z);
  };

  const backoff = (client: number, n: number): number => {
    switch (strategy) {
      case 'none':
        return 0;
      case 'exponential':
        return Math.min(CAP, BASE * 2 ** n);
      case 'full':
        return random() * Math.min(CAP, BASE * 2 ** n);
      case 'equal': {
        const v = Math.min(CAP, BASE * 2 ** n);
        return v / 2 + random() * (v / 2);
      }
      default: {
        const previous = decorrelated[client]!;
        const next = Math.min(CAP, BASE + random() * (previous * 3 - BASE));
        decorrelated[client] = next;
        return next;
      }
    }
  };

  const push = (time: number, owner: number, kind: Kind, payload: number): void => {
    let i = size++;
    const s = seq++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < s)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      owners[i] = owners[parent]!;
      kinds[i] = kinds[parent]!;
      payloads[i] = payloads[parent]!;
      i = parent;
    }
    times[i] = time;
    seqs[i] = s;
    owners[i] = owner;
    kinds[i] = kind;
    payloads[i] = payload;
  };

  const popInto = (): void => {
    // Removes the root; the caller has already read it.
    size--;
    if (size === 0) return;
    const time = times[size]!;
    const s = seqs[size]!;
    const owner = owners[size]!;
    const kind = kinds[size]!;
    const payload = payloads[size]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      let child = left;
      if (
        right < size &&
        (times[right]! < times[left]! ||
          (times[right] === times[left] && seqs[right]! < seqs[left]!))
      ) {
        child = right;
      }
      const ct = times[child]!;
      if (time < ct || (time === ct && s < seqs[child]!)) break;
      times[i] = ct;
      seqs[i] = seqs[child]!;
      owners[i] = owners[child]!;
      kinds[i] = kinds[child]!;
      payloads[i] = payloads[child]!;
      i = child;
    }
    times[i] = time;
    seqs[i] = s;
    owners[i] = owner;
    kinds[i] = kind;
    payloads[i] = payload;
  };

  for (let c = 0; c < clients; c++) push(hop(), c, Kind.ReadAtServer, 0);
  while (size > 0) {
    now = times[0]!;
    const owner = owners[0]!;
    const kind = kinds[0]! as Kind;
    const payload = payloads[0]!;
    popInto();
    switch (kind) {
      case Kind.ReadAtServer:
        push(now + hop(), owner, Kind.ReadReply, version);
        break;
      case Kind.ReadReply:
        push(now + hop(), owner, Kind.WriteAtServer, payload);
        break;
      case Kind.WriteAtServer: {
        calls++;
        const ok = payload === version;
        if (ok) version++;
        push(now + hop(), owner, Kind.WriteReply, ok ? 1 : 0);
        break;
      }
      default:
        if (payload === 0) {
          const n = ++attempts[owner]!;
          push(now + hop() + backoff(owner, n), owner, Kind.ReadAtServer, 0);
        }
    }
  }
  out.calls = calls;
  out.time = now;
}

/** The whole sweep: clients 10…190 step 10 × 5 strategies × `runs` runs. */
export function runHandwrittenContention(
  options: {
    runs?: number;
    seed?: number;
    clients?: readonly number[];
    strategies?: readonly HandStrategy[];
  } = {},
): HandResult[] {
  const runs = options.runs ?? 100;
  const seed = options.seed ?? 1;
  const clientCounts = options.clients ?? Array.from({ length: 19 }, (_, i) => 10 * (i + 1));
  const results: HandResult[] = [];
  const out = { calls: 0, time: 0 };
  for (const clients of clientCounts) {
    for (const [s, strategy] of handStrategies.entries()) {
      if (options.strategies !== undefined && !options.strategies.includes(strategy)) continue;
      let calls = 0;
      let time = 0;
      for (let run = 0; run < runs; run++) {
        runOnce(
          clients,
          strategy,
          makeRandom(seed * 1_000_003 + clients * 7919 + s * 131 + run),
          out,
        );
        calls += out.calls;
        time += out.time;
      }
      results.push({ clients, strategy, calls: calls / runs, time: time / runs });
    }
  }
  return results;
}

const isMain =
  typeof process !== 'undefined' &&
  process.argv[1] !== undefined &&
  import.meta.url === new URL(`file://${process.argv[1]}`).href;

if (isMain) {
  const started = performance.now();
  const results = runHandwrittenContention();
  const elapsed = performance.now() - started;
  for (const r of results) {
    console.log(
      `${String(r.clients).padStart(4)} ${r.strategy.padEnd(13)} calls ${r.calls.toFixed(1).padStart(9)}  time ${r.time.toFixed(1).padStart(9)} ms`,
    );
  }
  console.log(`hand-written contention sweep (19 x 5 x 100): ${(elapsed / 1000).toFixed(2)} s`);
}
