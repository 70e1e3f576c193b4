// How the repository's tests start Chromium: Debian's package (installed by .ci/run), never a
// downloaded browser, with no sandbox (root in a container), no GPU, and nothing that phones
// home or updates itself.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
