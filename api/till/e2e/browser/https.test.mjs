// Browser tests of the till over HTTPS from posd's shop CA, on a LAN-like
// name (shop.lan, mapped to 127.0.0.1 inside Chromium), against the same
// till over plain HTTP on the same name. Each Chromium gets its own HOME,
// so its own NSS trust store (~/.pki/nssdb): one where the shop CA was
// installed with certutil, as the setup page tells an owner to do, and one
// where it was not. The difference the CA makes is measured, not claimed:
// over HTTPS the till reloads and sells while posd is down; over HTTP the
// same reload fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';

import { setup, launch, signIn, ring, queued, screenshot, waitFor } from './harness.mjs';

const APPLE = '4006381333931';
const BREAD = '5000112548167';
const NAME = 'shop.lan';

/** shop is a fresh posd serving HTTP and HTTPS, and the CA it serves at /ca.crt. */
async function shop(t) {
  const env = await setup(t, { tlsName: NAME });
  const res = await fetch(`${env.posd.url}/ca.crt`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-x509-ca-cert');
  env.caDer = Buffer.from(await res.arrayBuffer());
  env.ca = new X509Certificate(env.caDer);
  assert.equal(env.ca.ca, true, '/ca.crt is a CA certificate');
  env.httpURL = `http://${NAME}:${env.posd.port}`;
  env.httpsURL = `https://${NAME}:${env.posd.tlsPort}`;
  return env;
}

/** home makes a HOME with a fresh NSS database, trusting the shop CA when trust is set. */
function home(env, name, trust) {
  const dir = path.join(env.root, `home-${name}`);
  const db = `sql:${path.join(dir, '.pki', 'nssdb')}`;
  mkdirSync(path.join(dir, '.pki', 'nssdb'), { recursive: true });
  execFileSync('certutil', ['-N', '--empty-password', '-d', db]);
  if (trust) {
    const file = path.join(env.root, 'ca.crt');
    writeFileSync(file, env.caDer);
    execFileSync('certutil', ['-A', '-n', 'posd', '-t', 'C,,', '-i', file, '-d', db]);
    const listed = execFileSync('certutil', ['-L', '-d', db]).toString();
    assert.match(listed, /posd\s+C,,/, 'the shop CA is trusted in the NSS database');
  }
  return dir;
}

/** browser starts Chromium with HOME at homeDir and shop.lan resolving to 127.0.0.1. */
async function browser(env, name, homeDir) {
  const profile = path.join(env.root, `profile-${name}`);
  mkdirSync(profile);
  const ctx = await launch(profile, { env: { ...process.env, HOME: homeDir }, args: [`--host-resolver-rules=MAP ${NAME} 127.0.0.1`] });
  env.browsers.push(ctx); // closed by setup's teardown, before the temp dir goes
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('pageerror', (e) => console.error('page error:', e.message));
  return { ctx, page };
}

async function complete(page) {
  await page.click('#complete');
  await page.waitForSelector('#view-receipt:not([hidden])', { timeout: 60000 });
}

async function waitQueued(page, n, timeout = 30000) {
  await waitFor(async () => (await queued(page)) === n, { timeout, what: `queued counter ${n}` });
}

const controlled = (page) => page.evaluate(() => !!(navigator.serviceWorker && navigator.serviceWorker.controller));

test('1. HTTPS on shop.lan: the service worker controls the till; reloaded while posd is down it still sells, and the sales arrive once', async (t) => {
  const env = await shop(t);
  const { page } = await browser(env, 'https', home(env, 'https', true));
  await page.goto(`${env.httpsURL}/till/`);
  assert.equal(await page.evaluate(() => window.isSecureContext), true, 'a secure context');
  await signIn(page, env.tillToken);
  await waitFor(() => controlled(page), { what: 'the service worker to control the page' });

  await env.posd.stop();
  await page.reload(); // posd is down: only the service worker can answer
  await page.waitForSelector('#view-sell:not([hidden])');
  assert.equal(await controlled(page), true, 'the reloaded page is served by the service worker');
  await page.waitForSelector('#conn[data-status=unreachable]');
  await ring(page, APPLE);
  await complete(page);
  assert.equal(await page.isVisible('#receipt-provisional'), true, 'the receipt says the number follows');
  await page.click('#new-sale');
  await ring(page, BREAD);
  await complete(page);
  await page.click('#new-sale');
  await waitQueued(page, 2);
  await screenshot(page, 'https-offline-reloaded');
  assert.equal((await env.posd.sales().catch(() => null)) ?? 'unreachable', 'unreachable', 'posd is really down');

  await env.posd.start();
  await waitQueued(page, 0);
  const sales = await env.posd.sales();
  assert.equal(sales.length, 2, 'each queued sale arrived exactly once');
  assert.deepEqual(sales.map((s) => s.items[0].sku), [APPLE, BREAD], 'in the order they were rung up');
  assert.equal(new Set(sales.map((s) => s.invoiceNumber)).size, 2);
});

test('2. plain HTTP on shop.lan: no service worker, and the same reload while posd is down cannot open the till', async (t) => {
  const env = await shop(t);
  const { page } = await browser(env, 'http', home(env, 'http', true));
  await page.goto(`${env.httpURL}/till/`);
  assert.equal(await page.evaluate(() => window.isSecureContext), false, 'not a secure context');
  assert.equal(await page.evaluate(() => 'serviceWorker' in navigator), false, 'no service worker API');
  await signIn(page, env.tillToken);

  await env.posd.stop();
  let failure = null;
  await page.reload().catch((e) => (failure = e));
  assert.match(String(failure && failure.message), /ERR_CONNECTION_REFUSED/, 'the reload fails');
  assert.equal(await page.locator('#view-sell').count(), 0, 'no till on the page');
  assert.equal(await page.locator('#complete').count(), 0, 'nothing to sell with');
  await env.posd.start();
});

test('3. the setup page: the CA and its fingerprint; an untrusting device is not sent on, a trusting one is, after a warning about sales still queued here', async (t) => {
  const env = await shop(t);
  const want = env.ca.fingerprint256; // AB:CD:… of the DER, as posd shows it

  // A device that has not installed the CA yet.
  const untrusted = await browser(env, 'untrusted', home(env, 'untrusted', false));
  let page = untrusted.page;
  await page.goto(`${env.httpURL}/till/setup.html`);
  await page.waitForSelector('#steps:not([hidden])');
  assert.equal(await page.textContent('#ca-fp'), want);
  assert.match(await page.textContent('#ca-name'), /^posd shop CA/);
  assert.equal((await page.textContent('#ca-fp1')).length, 59, 'the SHA-1 thumbprint for Windows');
  assert.equal(await page.getAttribute('#ca-link', 'href'), '/ca.crt');
  const served = await page.evaluate(async () => {
    const r = await fetch('/ca.crt');
    return [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength];
  });
  assert.deepEqual(served, [200, 'application/x-x509-ca-cert', env.caDer.length]);
  assert.equal(await page.textContent('#target'), `${env.httpsURL}/till/`, 'the same name, on the HTTPS port');
  assert.equal(await page.getAttribute('#os-chromeos', 'open'), '', "this Linux Chromium's steps are open");
  await page.click('#go');
  await page.waitForSelector('#check-result.bad');
  assert.match(await page.textContent('#check-result'), /does not trust/);
  assert.equal(new URL(page.url()).protocol, 'http:', 'not sent to an address it would refuse');
  await screenshot(page, 'setup', { fullPage: true });
  await untrusted.ctx.close();

  // A till that trusts the CA, with a sale still queued at its HTTP address.
  const trusted = await browser(env, 'trusted', home(env, 'trusted', true));
  const till = trusted.page;
  await till.goto(`${env.httpURL}/till/`);
  await signIn(till, env.tillToken);
  await till.route('**/api/sales', (r) => r.abort('connectionrefused')); // this sale cannot get through
  await ring(till, APPLE);
  await complete(till);
  await waitQueued(till, 1);

  page = await trusted.ctx.newPage();
  await page.goto(`${env.httpURL}/till/setup.html`);
  await page.waitForSelector('#steps:not([hidden])');
  await page.click('#go');
  await page.waitForSelector('#queued-note:not([hidden])');
  assert.match(await page.textContent('#queued-note'), /^1 sale is still waiting/);
  assert.equal(await page.textContent('#go'), 'Open the secure till anyway');
  assert.equal(new URL(page.url()).protocol, 'http:', 'the warning comes first');
  await page.click('#go');
  await page.waitForURL(`${env.httpsURL}/till/`);
  await page.waitForSelector('#view-signin:not([hidden])'); // a new origin: the till signs in once more
  assert.equal(await page.evaluate(() => window.isSecureContext), true);
  await signIn(page, env.tillToken);

  // The sale left at the HTTP address is not lost: it goes when that till can reach posd.
  await till.unroute('**/api/sales');
  await waitQueued(till, 0);
  assert.equal((await env.posd.sales()).length, 1);
});
