/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, as `bench:http --cpu-prof <dir>` writes for
 * its server children): self time by function and by package, top first.
 *
 * `node benchmarks/dist/http-profile.js <file.cpuprofile> [top=25]`
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: http-profile <file.cpuprofile> [top]');
const top = Number(process.argv[3] ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

const where = (url: string): string => {
  if (url === '') return '(native/V8)';
  const match = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match !== null) return match[1]!;
  const own = /packages\/([^/]+)\/dist\/(.+)$/.exec(url);
  if (own !== null) return `@faultline/${own[1]}`;
  if (url.startsWith('node:')) return 'node core';
  return url.replace(/^file:\/\/.*\//, '');
};

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  total += us;
  if (functionName === '(idle)') {
    idle += us;
    continue;
  }
  const file = url.replace(/^.*\//, '');
  const name = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1} [${where(url)}]`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const pkg = where(url);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
}

const busy = total - idle;
const show = (title: string, map: Map<string, number>, count: number): void => {
  console.log(`\n${title} (share of non-idle time, ${(busy / 1000).toFixed(0)} ms busy)`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    console.log(
      `${((100 * us) / busy).toFixed(1).padStart(6)}% ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
    );
  }
};
show('self time by package', byPackage, 15);
show('self time by function', byFunction, top);
