import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort, requireBinary, serviceUrl } from './services.js';

describe('integration-test services helper', () => {
  const saved = { CI: process.env.CI, REDIS_URL: process.env.REDIS_URL };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    vi.restoreAllMocks();
  });

  it('skips loudly (warning with URL and how to start it) when a service is down', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    delete process.env.CI;
    process.env.REDIS_URL = `redis://127.0.0.1:${await freePort()}`;
    expect(await serviceUrl('redis')).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/SKIPPING redis.*127\.0\.0\.1.*redis-server/s),
    );
  });

  it('fails instead under CI=true', async () => {
    process.env.CI = 'true';
    process.env.REDIS_URL = `redis://127.0.0.1:${await freePort()}`;
    await expect(serviceUrl('redis')).rejects.toThrow(/CI=true: redis is not reachable/);
    expect(() => requireBinary('definitely-not-a-binary-faultline')).toThrow(/CI=true/);
  });
});
