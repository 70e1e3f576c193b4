/**
 * docs/guides/leases.md runs as written: Kleppmann's figure prints what the page says it prints,
 * the fenced counter counts, and the fenced HTTP handler refuses a paused holder's late write
 * (and its read-modify-write) over real loopback sockets, with the page's client as the holder.
 * The simulator figures it quotes are the ones of record in packages/sim/README.md.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { VirtualClock } from '@faultline/clock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { codeBlock, codeBlocks, loadBlock, root } from './pipelines/harness.js';

const page = 'docs/guides/leases.md';

let logs: string[];
let spy: { mockRestore(): void };
beforeEach(() => {
  logs = [];
  spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logs.push(args.map(String).join(' '));
  });
});
afterEach(() => {
  spy.mockRestore();
});

/** The `// output` comment lines that follow each `console.log` of a block. */
function promised(code: string): string[] {
  const lines = code.split('\n');
  return lines.flatMap((line, i) =>
    line.trimStart().startsWith('console.log(') && lines[i + 1]?.trimStart().startsWith('// ')
      ? [lines[i + 1]!.trim().slice(3)]
      : [],
  );
}

describe('docs/guides/leases.md', () => {
  it("Kleppmann's figure: the late write of the paused client is fenced out, as printed", async () => {
    const block = codeBlock(page, 'const storage = fenceGuard();');
    await loadBlock(block, [], new VirtualClock());
    expect(promised(block.code)).toEqual([
      'client 1 checks its lease: valid',
      "client 1's late write: fenced out; the file holds: client 2",
      "client 1's lease: aborted",
    ]);
    expect(logs).toEqual(promised(block.code));
  });

  it('the fenced read-modify-write counts', async () => {
    const block = codeBlock(page, 'let counter = 0;');
    await loadBlock(block, [], new VirtualClock());
    expect(logs).toEqual(['1']);
  });

  describe('the fenced HTTP handler', () => {
    let server: Server;
    let base: string;
    beforeEach(async () => {
      const block = codeBlock(page, 'const server = http.createServer(');
      // The page listens on 8080; the test on a free loopback port.
      const code = block.code.replace("server.listen(8080, '127.0.0.1');", '');
      expect(code).not.toBe(block.code);
      const module = await loadBlock({ ...block, code }, ['server'], new VirtualClock());
      server = module.server as Server;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    const call = async (method: 'GET' | 'PUT', token?: string, body?: string) => {
      const headers: Record<string, string> = {};
      if (token !== undefined) headers['fencing-token'] = token;
      const response = await fetch(`${base}/reports/daily`, { method, headers, body });
      return { status: response.status, text: await response.text() };
    };

    it("the page's client writes through it under its lease", async () => {
      (globalThis as { url?: string }).url = base;
      try {
        await loadBlock(
          codeBlock(page, "'fencing-token': String(held.token)"),
          [],
          new VirtualClock(),
        );
      } finally {
        delete (globalThis as { url?: string }).url;
      }
      expect(await call('GET', '1')).toEqual({ status: 200, text: 'totals for today' });
    });

    it('refuses a missing or malformed token, and a lower token after a higher write', async () => {
      expect((await call('PUT', undefined, 'x')).status).toBe(400);
      expect((await call('PUT', '-1', 'x')).status).toBe(400);
      expect((await call('PUT', '34', 'client 2')).status).toBe(204);
      const late = await call('PUT', '33', 'client 1');
      expect(late.status).toBe(409);
      expect(late.text).toMatch(/token 33 rejected: .* token 34/);
      expect(await call('GET', '34')).toEqual({ status: 200, text: 'client 2' });
      // The same holder may act again.
      expect((await call('PUT', '34', 'client 2, again')).status).toBe(204);
    });

    it('a read records its token: the read-modify-write case', async () => {
      expect((await call('PUT', '33', '0')).status).toBe(204);
      // The new holder (34) reads; the paused old holder (33) then writes: refused.
      expect(await call('GET', '34')).toEqual({ status: 200, text: '0' });
      expect((await call('PUT', '33', '1')).status).toBe(409);
      expect((await call('PUT', '34', '1')).status).toBe(204);
      expect(await call('GET', '34')).toEqual({ status: 200, text: '1' });
    });
  });

  it("quotes the simulator's figures of record (packages/sim/README.md) and its command", () => {
    const guide = readFileSync(join(root, page), 'utf8');
    const readme = readFileSync(join(root, 'packages/sim/README.md'), 'utf8');
    const rows = Object.fromEntries(
      [
        ...guide.matchAll(
          /^\| `([a-z-]+)` \| (\d+) of ([\d ]+?)(?: \([^)]*\))? \| (\d+) \| (\d+) \| (\d+) \|$/gm,
        ),
      ].map((m) => [m[1]!, m.slice(2).map((n) => Number(n.replace(/ /g, '')))]),
    );
    // [runs with lost updates, runs, lost updates, stale accepted, stale rejected]
    expect(rows).toEqual({
      unfenced: [572, 10_000, 1703, 572, 0],
      'fenced-writes': [42, 10_000, 42, 42, 530],
      fenced: [0, 10_000, 0, 0, 572],
    });
    expect(readme).toContain('`unfenced` lost updates in 572 runs (5.7 %, 1703 increments)');
    expect(readme).toContain('`fenced-writes` in 42 (0.4 %');
    expect(readme).toContain('while rejecting 530 stale writes');
    expect(readme).toContain('`fenced` in none (0 stale writes accepted, 572\n  rejected)');
    expect(guide).toContain(
      'faultline-sim lease-pause --json          # 10 000 seeds per variant, seed 1',
    );
    // Every TypeScript block compiles (scripts/check-snippets.mjs): none is excluded.
    expect(codeBlocks(page).filter((b) => b.info.includes('no-check'))).toEqual([]);
  });
});
