import { fileURLToPath } from 'node:url';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import './vitest.polyfills.js';
// @ts-expect-error: a plain .mjs script without declarations (scripts/ is not a TypeScript project)
import { browserTestPlan } from './scripts/browser-safe.mjs';
// @ts-expect-error: as above
import { CHROMIUM_ARGS, CHROMIUM_PATH as executablePath } from './scripts/chromium.mjs';

// The browser-safe packages' unit tests, in headless Chromium (`pnpm test:browser`): Debian's
// Chromium (/usr/bin/chromium, installed by .ci/run), driven by Playwright, never a downloaded
// browser. Test files that reach a Node built-in or a Node-only package are left out, each with
// its reason (printed below); node:events is provided by a shim that tracks listeners, for the
// tests that check no listener is left on a signal.

interface Plan {
  name: string;
  dir: string;
  runnable: string[];
  excluded: Array<{ file: string; reason: string }>;
}
const plan = browserTestPlan() as Plan[];

// Tests that assert Node's own behaviour, which a browser does not have: left out by name.
export const NODE_BEHAVIOUR_TESTS = [
  // Node timers have ref()/unref()/hasRef(); a browser timer is a number.
  'setTimer with unref: true unrefs the platform timer',
  'on systemClock: its timer is unref (never keeps the process alive)',
  // Node has no reportError(); browsers do, so the browser path is the other test beside it.
  'without reportError (Node), a throwing listener surfaces as an uncaught exception',
];
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const excluded = plan.flatMap((pkg) => pkg.excluded);
if (process.env.FAULTLINE_BROWSER_PLAN_PRINTED === undefined) {
  process.env.FAULTLINE_BROWSER_PLAN_PRINTED = '1';
  console.info(
    `browser tests: ${plan.reduce((n, pkg) => n + pkg.runnable.length, 0)} files of ${plan.map((pkg) => pkg.name).join(', ')}; ${excluded.length} left out (Node only):\n${excluded.map((e) => `  ${e.file}: ${e.reason}`).join('\n')}`,
  );
}

const conditions = ['@faultline/source'];

export default defineConfig({
  resolve: {
    conditions: [...conditions, 'browser', 'module', 'development|production'],
    alias: {
      'node:events': fileURLToPath(
        new URL('./packages/test-support/src/browser-events.ts', import.meta.url),
      ),
    },
  },
  test: {
    projects: plan
      .filter((pkg) => pkg.runnable.length > 0)
      .map((pkg) => ({
        extends: true as const,
        test: {
          name: pkg.name,
          root: '.',
          include: pkg.runnable,
        },
      })),
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({ launchOptions: { executablePath, args: CHROMIUM_ARGS } }),
      instances: [{ browser: 'chromium' }],
      screenshotFailures: false,
    },
    testNamePattern: new RegExp(`^(?!.*(?:${NODE_BEHAVIOUR_TESTS.map(escapeRegExp).join('|')}))`),
    setupFiles: [
      fileURLToPath(new URL('./packages/test-support/src/browser-setup.ts', import.meta.url)),
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    passWithNoTests: false,
  },
});
