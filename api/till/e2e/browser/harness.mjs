// harness.mjs — what every browser test needs: a real posd (the binary,
// built with go build, on 127.0.0.1 with a fresh data dir), a proxy in
// front of it that can delay, drop or block traffic, and Debian's Chromium
// driven by playwright-core (no browser is ever downloaded).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../../../..');
export const outDir = path.join(repo, 'test-output', 'till');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let bin;
/** posdBinary builds cmd/posd once per test file. */
export function posdBinary() {
  if (bin) return bin;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'posd-bin-'));
  bin = path.join(dir, 'posd');
  execFileSync('go', ['build', '-o', bin, './cmd/posd'], { cwd: repo, stdio: 'inherit' });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return bin;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Posd is a posd serve child process on its own data dir. */
export class Posd {
  constructor(dataDir) {
    this.dataDir = dataDir;
    this.proc = null;
    this.log = '';
    this.args = []; // more serve flags, e.g. --tls-listen
  }
  async init() {
    const out = execFileSync(posdBinary(), ['init', '--data-dir', this.dataDir, '--business', 'Corner Shop', '--timezone', 'Europe/Vienna', '--currency', 'EUR', '--json']);
    const v = JSON.parse(out);
    this.owner = v.ownerToken;
    this.locationId = v.locationId;
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
  }
  async start() {
    this.proc = spawn(posdBinary(), ['serve', '--data-dir', this.dataDir, '--listen', `127.0.0.1:${this.port}`, '--log-level', 'warn', ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => (this.log += d));
    this.proc.stderr.on('data', (d) => (this.log += d));
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.exited = exited;
    for (let i = 0; i < 200; i++) {
      try {
        const r = await fetch(`${this.url}/api/health`);
        if (r.ok) return;
      } catch {
        /* not up yet */
      }
      await sleep(50);
    }
    throw new Error(`posd did not start:\n${this.log}`);
  }
  /** stop sends SIGTERM and waits for posd to exit. */
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
  /** sales lists every sale posd holds, oldest first. */
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
 * Proxy forwards the till's traffic to posd. mode "pass" forwards, "down"
 * hangs up every connection (posd unreachable). delayPostMs holds posd's
 * answer to each POST that long; dropPosts > 0 lets that many POSTs reach
 * posd and then hangs up instead of passing its answer back.
 */
export class Proxy {
  constructor(target) {
    this.target = target;
    this.mode = 'pass';
    this.delayPostMs = 0;
    this.dropPosts = 0;
    this.posts = []; // {path, key, outcome}
    this.sockets = new Set();
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }
  async listen() {
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
  }
  /** block makes posd unreachable through the proxy, cutting open connections too. */
  block() {
    this.mode = 'down';
    for (const s of this.sockets) s.destroy();
  }
  unblock() {
    this.mode = 'pass';
  }
  salePosts() {
    return this.posts.filter((p) => p.path === '/api/sales');
  }
  handle(req, res) {
    if (this.mode === 'down') return req.socket.destroy();
    const isPost = req.method === 'POST';
    const rec = isPost ? { path: req.url, key: req.headers['idempotency-key'], outcome: 'pending' } : null;
    if (rec) this.posts.push(rec);
    const drop = isPost && this.dropPosts > 0 && this.dropPosts--;
    const delay = isPost ? this.delayPostMs : 0;
    const up = http.request({ host: '127.0.0.1', port: this.target.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      const chunks = [];
      ures.on('data', (c) => chunks.push(c));
      ures.on('end', () => {
        const body = Buffer.concat(chunks);
        const answer = () => {
          if (drop) {
            if (rec) rec.outcome = `dropped ${ures.statusCode}`;
            return req.socket.destroy(); // posd has answered (and committed); the till never hears it
          }
          if (rec) rec.outcome = String(ures.statusCode);
          res.writeHead(ures.statusCode, ures.headers);
          res.end(body);
        };
        if (delay) setTimeout(answer, delay);
        else answer();
      });
    });
    up.on('error', () => {
      if (rec) rec.outcome = 'unreachable';
      req.socket.destroy();
    });
    req.pipe(up);
  }
  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * launch starts Chromium with a profile in userDataDir (the same dir again
 * is a browser restart). env replaces the browser's environment (HOME
 * decides which NSS trust store it reads) and args adds flags.
 */
export async function launch(userDataDir, { env, args = [] } = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...args],
    ...(env ? { env } : {}),
    viewport: { width: 1024, height: 768 },
    acceptDownloads: true,
  });
}

/**
 * setup gives a test a fresh posd with a till token and three products, a
 * proxy in front of it, and a Chromium profile. Everything is torn down
 * when the test ends. With tlsName, posd also serves HTTPS from its shop
 * CA on posd.tlsPort (127.0.0.1), with tlsName on the certificate.
 */
export async function setup(t, { bound = true, tlsName } = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'posd-e2e-'));
  const posd = new Posd(path.join(root, 'data'));
  await posd.init();
  if (tlsName) {
    posd.tlsPort = await freePort();
    posd.args.push('--tls-listen', `127.0.0.1:${posd.tlsPort}`, '--tls-name', tlsName);
  }
  await posd.start();
  const tok = await posd.api('POST', '/api/tokens', { role: 'till', name: 'Till 1', ...(bound ? { locationId: posd.locationId } : {}) });
  const products = {};
  for (const p of [
    { sku: '4006381333931', name: 'Apple', price: 150 },
    { sku: '2000000000015', name: 'Cheese (per kg)', price: 1999 },
    { sku: '5000112548167', name: 'Bread', price: 320 },
  ]) {
    products[p.name.split(' ')[0].toLowerCase()] = await posd.api('POST', '/api/products', { ...p, taxRate: 10 });
  }
  const proxy = new Proxy(posd);
  await proxy.listen();
  const profile = path.join(root, 'profile');
  mkdirSync(profile);
  const env = { root, posd, proxy, profile, tillToken: tok.token, products, browser: null, browsers: [] };
  env.open = async () => {
    env.browser = await launch(profile);
    const page = env.browser.pages()[0] || (await env.browser.newPage());
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${proxy.url}/till/`);
    return page;
  };
  t.after(async () => {
    if (env.browser) await env.browser.close().catch(() => {});
    for (const b of env.browsers) await b.close().catch(() => {}); // more browsers a test started
    await proxy.close().catch(() => {});
    await posd.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  });
  return env;
}

/** signIn signs the till in with its token and waits for the selling view. */
export async function signIn(page, token) {
  await page.fill('#token', token);
  await page.press('#token', 'Enter');
  await page.waitForSelector('#view-sell:not([hidden])');
  await page.waitForSelector('#conn[data-status=online]');
}

/** ring scans a product (types its code and Enter, as a scanner does). */
export async function ring(page, sku) {
  await page.fill('#search', sku);
  await page.press('#search', 'Enter');
  await page.waitForSelector(`#cart-lines tr[data-sku="${sku}"]`);
}

/** swReady waits until the service worker has the till's files. */
export async function swReady(page) {
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return !!reg.active;
  });
}

export async function queued(page) {
  return Number(await page.textContent('#queued-count'));
}

export async function screenshot(page, name, opts = {}) {
  mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, `${name}.png`), ...opts });
}

export async function waitFor(fn, { timeout = 20000, interval = 100, what = 'condition' } = {}) {
  const until = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(interval);
  }
}

export { existsSync };
