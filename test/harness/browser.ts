/**
 * Browser tests: Debian's Chromium (scripts/chromium.ts; npm test installs it) driven by playwright-core,
 * which downloads no browser. Helpers to launch it, scan a page with axe-core (read from node_modules,
 * never a CDN), save README screenshots, emulate a phone and keep pages off the internet.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type LaunchOptions,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { chromiumInstallHint, chromiumPath } from '../../scripts/chromium.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Launches headless Chromium ($CHROMIUM_PATH, else /usr/bin/chromium). Close it in afterAll: a browser
 * left open outlives the test file until the worker exits.
 */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const executablePath = options.executablePath ?? chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath} (CHROMIUM_PATH, default /usr/bin/chromium): ${chromiumInstallHint}`,
    );
  }
  // Chromium refuses its sandbox as root (CI runs as root); elsewhere keep it.
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({
    headless: true,
    ...options,
    executablePath,
    args: [...args, ...(options.args ?? [])],
  });
}

/**
 * One browser for the test file: launched in beforeAll, closed in afterAll. Each test awaits the returned
 * function, so a missing Chromium fails every test with the install hint (counted as failed, where an
 * error thrown by beforeAll would only mark them skipped).
 */
export function useBrowser(options: LaunchOptions = {}): () => Promise<Browser> {
  let launched: Promise<Browser> | undefined;
  beforeAll(() => {
    launched = launchBrowser(options);
    launched.catch(() => {}); // reported by each test that awaits it
  });
  afterAll(async () => {
    await (await launched?.catch(() => undefined))?.close();
  });
  return () => launched ?? Promise.reject(new Error('useBrowser(): await the browser inside a test'));
}

/** A phone's CSS viewport (iPhone 12-15 size). */
export const phoneViewport = { width: 390, height: 844 } as const;

/**
 * Context options for a phone: its viewport, touch and mobile layout. With isMobile, a page without
 * `<meta name="viewport" content="width=device-width">` is laid out 980 px wide, as on a real phone.
 */
export const phoneContext: BrowserContextOptions = {
  viewport: phoneViewport,
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};

/**
 * Aborts every request (and WebSocket) of the context to a host other than 127.0.0.1, localhost or
 * [::1], and records its URL, so a test can assert a page loads nothing from the internet:
 * `expect(blocked).toEqual([])`. Call it before opening the page. The returned array fills as the page
 * runs.
 */
export async function blockExternalRequests(context: BrowserContext): Promise<{ blocked: string[] }> {
  const blocked: string[] = [];
  const external = (url: URL) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  await context.route(external, async (route) => {
    blocked.push(route.request().url());
    await route.abort('blockedbyclient');
  });
  await context.routeWebSocket(external, async (ws) => {
    blocked.push(ws.url());
    await ws.close({ code: 1008, reason: 'external host blocked by the test' });
  });
  return { blocked };
}

export type AccessibilityViolation = {
  /** axe rule id, e.g. `label`, `image-alt`, `color-contrast`. */
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  helpUrl: string;
  /** One CSS selector per offending element (frames and shadow roots joined with ` >>> `). */
  targets: string[];
};

export type AccessibilityOptions = {
  /** Limit the scan to these selectors (default: the whole document). */
  include?: string[];
  exclude?: string[];
  /** axe tags to run (default: WCAG 2.0, 2.1 and 2.2, levels A and AA). */
  tags?: string[];
  /** Rule ids to switch off, with a reason in the test. */
  disableRules?: string[];
};

export const wcagTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

let axeSource: Promise<string> | undefined;

/**
 * Runs axe-core in the page (and its frames) against WCAG 2 A/AA and returns every violation. Injected
 * through the DevTools protocol, so a page's Content-Security-Policy does not stop it.
 */
export async function checkAccessibility(
  page: Page,
  options: AccessibilityOptions = {},
): Promise<AccessibilityViolation[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const source = await axeSource;
  for (const frame of page.frames()) {
    if (!frame.isDetached()) await frame.evaluate(source);
  }
  const input = {
    context:
      options.include || options.exclude ? { include: options.include, exclude: options.exclude } : null,
    runOptions: {
      runOnly: { type: 'tag', values: options.tags ?? wcagTags },
      rules: Object.fromEntries((options.disableRules ?? []).map((id) => [id, { enabled: false }])),
      resultTypes: ['violations'],
    },
  };
  return page.evaluate(async ({ context, runOptions }) => {
    type Target = string | Target[];
    type Axe = {
      run(
        context: unknown,
        options: unknown,
      ): Promise<{
        violations: {
          id: string;
          impact?: AccessibilityViolation['impact'];
          help: string;
          helpUrl: string;
          nodes: { target: Target[] }[];
        }[];
      }>;
    };
    const { axe, document } = globalThis as unknown as { axe: Axe; document: unknown };
    const results = await axe.run(context ?? document, runOptions);
    const selector = (target: Target[]): string =>
      target.map((part) => (Array.isArray(part) ? selector(part) : part)).join(' >>> ');
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      helpUrl: v.helpUrl,
      targets: v.nodes.map((node) => selector(node.target)),
    }));
  }, input);
}

/** Throws a readable list of the page's serious and critical WCAG violations, if it has any. */
export async function expectAccessible(page: Page, options: AccessibilityOptions = {}): Promise<void> {
  const violations = (await checkAccessibility(page, options)).filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  if (violations.length === 0) return;
  const lines = violations.map(
    (v) => `  - ${v.id} (${v.impact}): ${v.help}\n      ${v.targets.join('\n      ')}\n      ${v.helpUrl}`,
  );
  throw new Error(
    `${violations.length} serious/critical accessibility violation(s) on ${page.url()}:\n${lines.join('\n')}`,
  );
}

/**
 * Saves a full-page PNG at CSS pixel size to docs/screenshots/<name>.png (for the README), or to
 * `dir`. Returns the file's path.
 */
export async function screenshot(
  page: Page,
  name: string,
  dir = path.join(repoRoot, 'docs', 'screenshots'),
): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`screenshot name must be kebab-case: ${name}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, scale: 'css', animations: 'disabled' });
  return file;
}
