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
 * posd and then hangs up instead of passing its answer back. refuse
 * answers the next requests to a path itself ({path, status, headers,
 * body, times}). requests records every request ({method, path, at,
 * headers, body}).
 *
 * fakePairing and fakeStatus stand in for the routes of contract §5 while
 * the posd under test does not have them yet (see fakes below); a posd that
 * has them is used as it is.
 */
export class Proxy {
  constructor(target) {
    this.target = target;
    this.mode = 'pass';
    this.delayPostMs = 0;
    this.dropPosts = 0;
    this.refuse = null;
    this.fakePairing = false;
    this.fakeStatus = false;
    this.codes = new Map(); // fake pairing codes: code → {locationId, key, tillId, tokenId}
    this.requests = [];
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
  statusReports() {
    return this.requests.filter((r) => r.method === 'PUT' && r.path === '/api/tills/current/status');
  }
  handle(req, res) {
    if (this.mode === 'down') return req.socket.destroy();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => this.forward(req, res, Buffer.concat(chunks)));
  }
  answer(res, status, body, headers = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { 'Content-Type': 'application/json' } : {}), ...headers });
    res.end(text);
  }
  forward(req, res, raw) {
    if (this.mode === 'down') return req.socket.destroy();
    const path = req.url.split('?')[0];
    let parsed = null;
    try {
      parsed = raw.length ? JSON.parse(raw) : null;
    } catch {
      parsed = null;
    }
    this.requests.push({ method: req.method, path, at: Date.now(), headers: req.headers, body: parsed });
    if (this.refuse && this.refuse.path === path && this.refuse.times > 0) {
      this.refuse.times--;
      return this.answer(res, this.refuse.status, this.refuse.body, this.refuse.headers);
    }
    if (this.fakeStatus && req.method === 'PUT' && path === '/api/tills/current/status') return this.answer(res, 204);
    if (this.fakePairing && req.method === 'POST' && path === '/api/pair') {
      return this.pair(req, res, parsed).catch((e) => this.answer(res, 500, { error: { code: 'internal', message: String(e) } }));
    }
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
    up.end(raw);
  }

  /**
   * pair is POST /api/pair as contract §5 has it, on top of posd's own
   * tokens: a known unused code gives a new till token (bound to the
   * code's location); the same key again is a replay with a working token
   * for the same till (a new secret, the earlier one revoked) and the
   * replay headers; anything else is 404. A code is the same in any case.
   * dropPosts applies: posd has answered, the till never hears it.
   */
  async pair(req, res, body) {
    const key = req.headers['idempotency-key'];
    const rec = { path: '/api/pair', key, outcome: 'pending' };
    this.posts.push(rec);
    const code = String((body && body.code) || '').toUpperCase();
    const c = this.codes.get(code);
    if (!key) return this.answer(res, 400, { error: { code: 'idempotency_key_missing', message: 'Idempotency-Key is required' } });
    if (!c || (c.key && c.key !== key)) {
      rec.outcome = '404';
      return this.answer(res, 404, { error: { code: 'not_found', message: 'no such pairing code' } });
    }
    const replay = c.key === key;
    if (replay) await this.target.api('DELETE', `/api/tokens/${c.tokenId}`);
    const tok = await this.target.api('POST', '/api/tokens', { role: 'till', name: c.name, ...(c.locationId ? { locationId: c.locationId } : {}) });
    c.key = key;
    c.tokenId = tok.id;
    c.tillId = c.tillId || tok.id;
    c.token = tok.token;
    const me = await this.target.api('GET', '/api/me');
    if (this.dropPosts > 0) {
      this.dropPosts--;
      rec.outcome = 'dropped 201';
      return req.socket.destroy();
    }
    rec.outcome = replay ? '201 replay' : '201';
    this.answer(res, 201, { token: tok.token, tillId: c.tillId, businessId: me.business.id, locationId: c.locationId || null }, replay ? { 'X-Idempotent-Replay': 'true', 'Idempotent-Replayed': 'true' } : {});
  }
  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/**
 * launch starts Chromium with a profile in userDataDir (the same dir again
 * is a browser restart). env replaces the browser's environment (HOME
 * decides which NSS trust store it reads), args adds flags and viewport
 * replaces 1024×768.
 */
export async function launch(userDataDir, { env, args = [], viewport = { width: 1024, height: 768 } } = {}) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...args],
    ...(env ? { env } : {}),
    viewport,
    acceptDownloads: true,
  });
}

/** LAN_HOST is a name the browser resolves to 127.0.0.1 without treating it as local: plain HTTP there is not a secure context, as on a shop's LAN address. */
export const LAN_HOST = 'till.lan.test';
export const LAN_ARGS = [`--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`];

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
  const env = { root, posd, proxy, profile, tillToken: tok.token, tillTokenId: tok.id, products, browser: null, browsers: [], pageErrors: [] };
  // open starts the browser (options as for launch) and opens the till, or
  // the given path, on the proxy (or on base, another address of it).
  env.open = async ({ path: p = '/till/', base = proxy.url, ...o } = {}) => {
    env.browser = await launch(profile, o);
    const page = env.browser.pages()[0] || (await env.browser.newPage());
    page.on('pageerror', (e) => {
      env.pageErrors.push(e.message);
      console.error('page error:', e.message);
    });
    await page.goto(base + p);
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

/** enterToken types a till token on the sign-in screen (behind "Use a till token instead"). */
export async function enterToken(page, token) {
  if (!(await page.isVisible('#token'))) await page.click('#use-token');
  await page.fill('#token', token);
  await page.press('#token', 'Enter');
}

/** signIn signs the till in with its token and waits for the selling view. */
export async function signIn(page, token) {
  await enterToken(page, token);
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

/**
 * pairingCode returns a new till pairing code for posd's Main location:
 * from posd's own POST /api/pairing-codes when it has the route (contract
 * §5), else one of the proxy's fake codes (and the proxy then answers
 * POST /api/pair itself).
 */
export async function pairingCode(env, name = 'Counter tablet') {
  const r = await fetch(`${env.posd.url}/api/pairing-codes`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.posd.owner}`, 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify({ name, locationId: env.posd.locationId }),
  });
  if (r.status === 201) return (await r.json()).code;
  env.proxy.fakePairing = true;
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let code = '';
  for (let i = 0; i < 6; i++) code += alphabet[Math.floor(Math.random() * alphabet.length)];
  env.proxy.codes.set(code, { name, locationId: env.posd.locationId });
  return code;
}

/** statusRoute makes sure PUT /api/tills/current/status is answered: by posd when it has the route, else by the proxy. It tells which. */
export async function statusRoute(env) {
  const r = await fetch(`${env.posd.url}/api/tills/current/status`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${env.tillToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ queued: 0, parked: 0, oldestQueuedAt: null, version: 'harness', clock: new Date().toISOString() }),
  });
  if (r.status === 204) return 'posd';
  env.proxy.fakeStatus = true;
  return 'proxy';
}

/** throttle slows the page's network through the DevTools protocol (latency in ms, throughput in bytes/s); null lifts it. */
export async function throttle(page, cond) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', cond ? { offline: false, ...cond } : { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  return cdp;
}

/** recordStatuses keeps, in the page, every connection state the header shows from now on. */
export async function recordStatuses(page) {
  await page.evaluate(() => {
    const conn = document.getElementById('conn');
    window.__statuses = [conn.dataset.status];
    new MutationObserver(() => window.__statuses.push(conn.dataset.status)).observe(conn, { attributes: true, attributeFilter: ['data-status'] });
  });
  return async () => page.evaluate(() => window.__statuses.slice());
}
