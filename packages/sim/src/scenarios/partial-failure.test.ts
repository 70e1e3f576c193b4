import { describe, expect, it } from 'vitest';
import { runPartialFailure } from './partial-failure.js';

describe('partial-failure', async () => {
  const report = await runPartialFailure({ runs: 1, probabilities: [0.1, 0.5, 0.9] });
  const n = 3;

  it('success matches 1 - x^attempts within sampling error', () => {
    for (const x of [0.1, 0.5, 0.9]) {
      const r = report.results.find((v) => v.x === x && v.policy === 'retry')!;
      const p = 1 - x ** n;
      const sd = Math.sqrt((p * (1 - p)) / r.requests);
      expect(r.expectedSuccessRate).toBeCloseTo(p, 4);
      expect(Math.abs(r.successRate! - p), `x = ${x}`).toBeLessThanOrEqual(4 * sd + 1e-4);
    }
  });

  it('load matches the attempts-weighted expectation (1 - x^n)/(1 - x) within sampling error', () => {
    for (const x of [0.1, 0.5, 0.9]) {
      const r = report.results.find((v) => v.x === x && v.policy === 'retry')!;
      // Attempts per request K: P(K = k) = x^(k-1)(1 - x) for k < n, P(K = n) = x^(n-1).
      const probabilities = [1 - x, x * (1 - x), x * x];
      const mean = probabilities.reduce((s, p, k) => s + p * (k + 1), 0);
      const variance = probabilities.reduce((s, p, k) => s + p * (k + 1 - mean) ** 2, 0);
      expect(mean).toBeCloseTo((1 - x ** n) / (1 - x), 10);
      expect(Math.abs(r.load! - mean), `x = ${x}`).toBeLessThanOrEqual(
        4 * Math.sqrt(variance / r.requests) + 1e-3,
      );
    }
  });

  it('a token bucket caps load near 1 as x approaches 1', () => {
    const capped = report.results.find((v) => v.x === 0.9 && v.policy === 'retry + token bucket')!;
    expect(capped.load!).toBeLessThan(1.05);
  });
});
