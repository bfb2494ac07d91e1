/**
 * The browser harness itself (test/harness/browser.ts), on pages from a local node:http server: each
 * test fails if its helper is wrong, not only if Chromium is missing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blockExternalRequests,
  checkAccessibility,
  expectAccessible,
  launchBrowser,
  phoneContext,
  phoneViewport,
  screenshot,
  useBrowser,
} from '../harness/browser.ts';

const page = (body: string, head = '') =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
  `<meta name="viewport" content="width=device-width, initial-scale=1"><title>Harness</title>${head}</head>` +
  `<body><main><h1>Find a time</h1>${body}</main></body></html>`;

// A 1×1 PNG, so the image itself loads.
const pixel = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk+A8AAQUBAScY42YAAAAASUVORK5CYII=',
  'base64',
);

const pages: Record<string, string> = {
  '/broken': page('<form><input type="text" name="q"><img src="/pixel.png"></form>'),
  '/fixed': page(
    '<form><label for="q">Search</label><input id="q" type="text" name="q">' +
      '<img src="/pixel.png" alt="Calbridge logo"></form>',
  ),
  '/external': page(
    '<p>Loads a script from a CDN.</p>',
    '<script src="https://cdn.example.com/x.js"></script>',
  ),
  '/tall': page('<div style="height: 3000px; background: linear-gradient(#fff, #36c)">Tall</div>'),
};

const browser = useBrowser();
let server: Server;
let origin: string;
let screenshotDir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/pixel.png') {
      res.writeHead(200, { 'content-type': 'image/png' }).end(pixel);
      return;
    }
    const html = pages[req.url ?? ''];
    if (html) res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  screenshotDir = mkdtempSync(path.join(os.tmpdir(), 'browser-harness-'));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  if (screenshotDir) rmSync(screenshotDir, { recursive: true, force: true });
});

describe('browser harness', () => {
  it('launchBrowser names CHROMIUM_PATH and the install command when the executable is missing', async () => {
    const missing = launchBrowser({ executablePath: '/nonexistent/chromium' });
    await expect(missing).rejects.toThrow(/\/nonexistent\/chromium.*CHROMIUM_PATH/);
    await expect(missing).rejects.toThrow(/apt-get install -y --no-install-recommends chromium/);
  });

  it('checkAccessibility reports an unlabelled input and an image without alt, with their selectors', async () => {
    const context = await (await browser()).newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${origin}/broken`);
      const violations = await checkAccessibility(tab);
      const byId = Object.fromEntries(violations.map((v) => [v.id, v]));
      expect(Object.keys(byId)).toEqual(expect.arrayContaining(['label', 'image-alt']));
      expect(byId.label!.impact).toBe('critical');
      // Each target is a selector for the offending element itself.
      expect(byId.label!.targets).toHaveLength(1);
      expect(await tab.locator(byId.label!.targets[0]!).getAttribute('name')).toBe('q');
      expect(byId['image-alt']!.targets).toHaveLength(1);
      expect(await tab.locator(byId['image-alt']!.targets[0]!).getAttribute('src')).toBe('/pixel.png');
      expect(byId.label!.help).toMatch(/label/i);
      await expect(expectAccessible(tab)).rejects.toThrow(/label \(critical\)[\s\S]*input/);
      await expect(expectAccessible(tab)).rejects.toThrow(/image-alt \(critical\)/);
      // A switched-off rule is not reported.
      const without = await checkAccessibility(tab, { disableRules: ['image-alt'] });
      expect(without.map((v) => v.id)).toContain('label');
      expect(without.map((v) => v.id)).not.toContain('image-alt');
    } finally {
      await context.close();
    }
  });

  it('checkAccessibility finds no serious or critical violation once the page is fixed', async () => {
    const context = await (await browser()).newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${origin}/fixed`);
      const violations = await checkAccessibility(tab);
      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
      await expectAccessible(tab);
    } finally {
      await context.close();
    }
  });

  it('blockExternalRequests aborts and records a request to a CDN, and lets 127.0.0.1 through', async () => {
    const context = await (await browser()).newContext();
    try {
      const { blocked } = await blockExternalRequests(context);
      const tab = await context.newPage();
      const failed: Request[] = [];
      tab.on('requestfailed', (request) => failed.push(request));
      const response = await tab.goto(`${origin}/external`);
      expect(response?.status()).toBe(200);
      expect(blocked).toEqual(['https://cdn.example.com/x.js']);
      // Aborted by the route, not a DNS failure: this machine may have no internet at all.
      expect(failed.map((r) => r.url())).toEqual(['https://cdn.example.com/x.js']);
      expect(failed[0]!.failure()?.errorText).toMatch(/^net::ERR_BLOCKED_BY_CLIENT/);
    } finally {
      await context.close();
    }
  });

  it('a phone context lays the page out 390 px wide, and screenshot saves the full page', async () => {
    const desktop = await (await browser()).newContext();
    const phone = await (await browser()).newContext(phoneContext);
    try {
      const wide = await desktop.newPage();
      await wide.goto(`${origin}/tall`);
      expect(await wide.evaluate('window.innerWidth')).not.toBe(390);

      const tab = await phone.newPage();
      await tab.goto(`${origin}/tall`);
      expect(phoneViewport).toEqual({ width: 390, height: 844 });
      expect(await tab.evaluate('[window.innerWidth, window.innerHeight]')).toEqual([390, 844]);
      const scrollHeight = (await tab.evaluate('document.documentElement.scrollHeight')) as number;
      expect(scrollHeight).toBeGreaterThan(3000);

      const file = await screenshot(tab, 'tall-phone', screenshotDir);
      expect(file).toBe(path.join(screenshotDir, 'tall-phone.png'));
      const png = readFileSync(file);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      // IHDR: width and height in CSS pixels (scale: 'css'), the whole page rather than the viewport.
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([390, scrollHeight]);
      await expect(screenshot(tab, '../escape', screenshotDir)).rejects.toThrow(/kebab-case/);
    } finally {
      await desktop.close();
      await phone.close();
    }
  });
});
