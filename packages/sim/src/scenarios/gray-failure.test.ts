import { describe, expect, it } from 'vitest';
import { runGrayFailure } from './gray-failure.js';

describe('gray-failure', async () => {
  const report = await runGrayFailure({ runs: 1 });
  const by = (strategy: string) => report.results.find((r) => r.strategy === strategy)!;

  it('a blind balancer keeps losing requests to the slow backend', () => {
    expect(by('none').successDuring!).toBeLessThan(0.97);
    expect(by('none').amplification!).toBeGreaterThan(1.1);
  });

  it('a breaker or a phi-accrual detector takes the slow backend out of rotation', () => {
    for (const strategy of ['breaker', 'phi detector']) {
      expect(by(strategy).successDuring!, strategy).toBeGreaterThan(0.985);
      expect(by(strategy).p99During!, strategy).toBeLessThan(by('none').p99During!);
    }
  });
});
