import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

const repo = path.resolve(import.meta.dirname, '../..');

/** Debian's Chromium (`apt-get install -y chromium`); CHROMIUM_PATH to use another. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const artifactsDir = path.join(repo, 'test-artifacts', 'dashboard');

/** Builds web/dist when it is missing or older than its sources, as `npm install` would. */
export function ensureDashboardBuilt(): void {
  const built = path.join(repo, 'web/dist/index.html');
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((entry) => {
        const file = path.join(dir, entry.name);
        return entry.isDirectory() ? newest(file) : statSync(file).mtimeMs;
      }),
    );
  const sources = Math.max(
    newest(path.join(repo, 'web/src')),
    statSync(path.join(repo, 'web/index.html')).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  execFileSync(path.join(repo, 'node_modules/.bin/vite'), ['build', '--config', 'web/vite.config.ts'], {
    cwd: repo,
    stdio: 'pipe',
  });
}

/**
 * Headless Chromium, nothing fetched from the network behind our back. Playwright gives each
 * launch a fresh temporary profile (it refuses --user-data-dir here) and removes it on close.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const DESKTOP = { width: 1360, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** A page of its own (cookies, storage), failing the test on any script error it reports. */
export async function newPage(browser: Browser, viewport: { width: number; height: number }) {
  const context: BrowserContext = await browser.newContext({
    viewport,
    deviceScaleFactor: viewport.width < 600 ? 2 : 1,
    colorScheme: 'light',
    isMobile: viewport.width < 600,
    hasTouch: viewport.width < 600,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (
      message.type() === 'error' &&
      !/WebSocket|Failed to load resource|ERR_CONNECTION/.test(message.text())
    )
      errors.push(message.text());
  });
  return { page, errors, close: () => context.close() };
}

export async function screenshot(page: import('playwright-core').Page, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), animations: 'allow' });
}
