// harness.mjs (office) — what the back office's browser tests add to the
// till's harness: a posd started on an EMPTY data dir, as `make run` does
// (it creates the shop and prints the office address with the owner token),
// a browser context for the office and one for a till, and the office's
// screenshots in test-output/office/.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { posdBinary, freePort, sleep, waitFor, Proxy, repo, CHROMIUM } from '../browser/harness.mjs';

export { sleep, waitFor };
export const officeOut = path.join(repo, 'test-output', 'office');
export const shotsDir = path.join(repo, 'api', 'office', 'screenshots');

/** FreshPosd is `posd serve` on an empty data dir: it makes "My Shop" and prints the office URL. */
export class FreshPosd {
  constructor(dataDir) {
    this.dataDir = dataDir;
    this.log = '';
  }
  async start() {
    if (!this.port) this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.proc = spawn(posdBinary(), ['serve', '--data-dir', this.dataDir, '--listen', `127.0.0.1:${this.port}`, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => (this.log += d));
    this.proc.stderr.on('data', (d) => (this.log += d));
    this.exited = new Promise((r) => this.proc.once('exit', r));
    await waitFor(async () => {
      try {
        return (await fetch(`${this.url}/api/health`)).ok;
      } catch {
        return false;
      }
    }, { timeout: 20000, what: 'posd to start' });
    const m = /Back office: (\S+#token=(posd_\S+))/.exec(this.log);
    if (m) {
      this.officeURL = m[1];
      this.owner = m[2];
    }
  }
  async stop() {
    if (!this.proc) return;
    this.proc.kill('SIGTERM');
    await this.exited;
    this.proc = null;
  }
  async api(method, p, body, token = this.owner) {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      if (method === 'POST') headers['Idempotency-Key'] = crypto.randomUUID();
    }
    const r = await fetch(this.url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  async sales() {
    const all = [];
    let cursor = '';
    for (;;) {
      const page = await this.api('GET', `/api/sales?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      all.push(...page.sales);
      if (!page.nextCursor) return all;
      cursor = page.nextCursor;
    }
  }
}

/**
 * setupOffice gives a test a fresh posd (started by serve on an empty data
 * dir), a proxy in front of it for the till, and a Chromium with one
 * context for the office and, on request, one for a till.
 */
export async function setupOffice(t, { viewport = { width: 1280, height: 800 } } = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'posd-office-'));
  const posd = new FreshPosd(path.join(root, 'data'));
  await posd.start();
  const proxy = new Proxy(posd);
  await proxy.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const errors = [];
  const env = { root, posd, proxy, browser, errors };
  env.office = async (vp = viewport) => {
    const ctx = await browser.newContext({ viewport: vp, acceptDownloads: true });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`office: ${e.message}`));
    return page;
  };
  env.till = async (vp = { width: 1024, height: 768 }) => {
    const ctx = await browser.newContext({ viewport: vp });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`till: ${e.message}`));
    return page;
  };
  t.after(async () => {
    await browser.close().catch(() => {});
    await proxy.close().catch(() => {});
    await posd.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  });
  return env;
}

/** signInOffice opens the office with a token (the printed #token= address, or the sign-in form). */
export async function signInOffice(page, env, token = null) {
  if (!token) {
    await page.goto(env.posd.officeURL);
  } else {
    await page.goto(`${env.posd.url}/office/`);
    await page.fill('#token', token);
    await page.press('#token', 'Enter');
  }
  await page.waitForSelector('#screen[data-screen]:not([hidden])');
  await page.waitForSelector('#conn[data-status=online]');
}

/** go opens a screen of the office and waits for it to be drawn. */
export async function go(page, screen, ready) {
  await page.evaluate((s) => (location.hash = `#/${s}`), screen);
  await page.waitForSelector(`#screen[data-screen="${screen.split('?')[0]}"]`);
  if (ready) await page.waitForSelector(ready);
}

/** shot saves a screenshot in test-output/office/ and, for the README, in api/office/screenshots/. */
export async function shot(page, name, { readme = false } = {}) {
  mkdirSync(officeOut, { recursive: true });
  const file = path.join(officeOut, `${name}.png`);
  await page.screenshot({ path: file });
  if (readme && process.env.POSD_SCREENSHOTS) {
    mkdirSync(shotsDir, { recursive: true });
    copyFileSync(file, path.join(shotsDir, `${name}.png`));
  }
}

/** toast waits for the office's confirmation and returns its words. */
export async function toastText(page, re, timeout = 20000) {
  await page.waitForFunction((src) => {
    const t = document.getElementById('toast');
    return t && !t.hidden && new RegExp(src).test(t.textContent);
  }, re.source, { timeout });
  return page.textContent('#toast');
}

/**
 * toastOnLeaving runs act(), which raises a toast matching re, then leave(),
 * which takes the owner to another screen, and returns what the page saw:
 * how long the toast had been up when the owner left (upMs) and how soon
 * after leaving it was hidden (goneMs), on the page's own clock. The toast's
 * own timer hides it 8 s after it came up, so goneMs is only a proof that
 * leaving hid it when upMs + goneMs is well short of 8 s.
 */
export async function toastOnLeaving(page, act, re, leave) {
  await page.evaluate(() => {
    const t = document.getElementById('toast');
    const log = (window.posdToastLog = []);
    new MutationObserver(() => log.push({ at: performance.now(), hidden: t.hidden, text: t.textContent })).observe(t, { attributes: true, attributeFilter: ['hidden'], childList: true, characterData: true, subtree: true });
  });
  await act();
  const text = await toastText(page, re);
  const leftAt = await page.evaluate(() => performance.now());
  await leave();
  await page.waitForFunction(() => document.getElementById('toast').hidden, null, { timeout: 20000 });
  const log = await page.evaluate(() => window.posdToastLog);
  const up = log.filter((e) => !e.hidden && e.at <= leftAt && new RegExp(re.source).test(e.text));
  const gone = log.find((e) => e.hidden && e.at >= leftAt);
  if (!up.length || !gone) throw new Error(`the toast’s changes seen: ${JSON.stringify(log)}`);
  // The last time before leaving that the toast changed to these words.
  return { text, upMs: leftAt - up[up.length - 1].at, goneMs: gone.at - leftAt };
}

/**
 * closeDay presses Close the day on the Day close screen and confirms; it
 * returns the new Z's number and the confirmation's words, with the Z's
 * dialog left open.
 */
export async function closeDay(office) {
  await office.click('#close-day');
  await office.waitForSelector('#close-confirm');
  const confirmText = await office.textContent('#close-confirm');
  await office.click('#close-confirm .actions button.primary');
  await office.waitForSelector('#z-dialog .zreport');
  return { z: await office.getAttribute('#z-dialog .zreport', 'data-z'), confirmText };
}
