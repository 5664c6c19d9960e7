// A real browser for dashboard tests: Debian's chromium driven by playwright-core (never a downloaded browser), failing on console errors.
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where the browser tests write each page's screenshot (git-ignored; the README shows two of them). */
export const SCREENSHOT_DIR = path.resolve(new URL('../../.cache/screenshots', import.meta.url).pathname);

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The executable: CHROMIUM_PATH, else Debian's. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

let shared: Promise<Browser> | undefined;

/** One browser per test file (node:test runs each file in its own process); each test gets its own context. */
function browser(): Promise<Browser> {
  shared ??= chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS });
  return shared;
}

export interface DashboardPage {
  page: Page;
  /** Console errors and page errors seen so far (tests assert there are none). */
  errors: string[];
  screenshot(name: string): Promise<void>;
}

/** A fresh browser context (own session storage) on `baseUrl`, recording console errors; the browser closes after the file. */
export async function openDashboard(
  t: Pick<TestContext, 'after'>,
  baseUrl: string,
  viewport = { width: 1280, height: 900 },
): Promise<DashboardPage> {
  const context = await (await browser()).newContext({ baseURL: baseUrl, viewport });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    page,
    errors,
    screenshot: async (name) => {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
  };
}

/** Closes the shared browser: `after(closeBrowser)` at the top of each browser test file. */
export async function closeBrowser(): Promise<void> {
  const launched = shared;
  shared = undefined;
  if (launched) await (await launched).close();
}
