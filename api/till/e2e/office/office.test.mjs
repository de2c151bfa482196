// Browser tests of the back office: Debian's Chromium against a real posd
// serve started on an empty data dir, as a new owner starts it. Each test
// checks what posd holds at the end, not only what the page shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ring } from '../browser/harness.mjs';
import { setupOffice, signInOffice, go, shot, toastText, waitFor, sleep } from './harness.mjs';

const APPLE = '4006381333931';
const BREAD = '5000112548167';
const CHEESE = '2000000000015';

const BAD_CSV = [
  'sku,name,price,taxRate',
  `${APPLE},Apple,1.50,20`,
  `${APPLE},Apple (again),1.60,20`,
  `${BREAD},Bread,"12,5€",10`,
  `${CHEESE},Cheese (per kg),19.99,VAT20`,
  '',
].join('\n');
const GOOD_CSV = ['sku,name,price,taxRate', `${APPLE},Apple,1.50,20`, `${BREAD},Bread,12.50,10`, `${CHEESE},Cheese (per kg),19.99,20`, ''].join('\n');

async function chooseFile(page, text, name = 'products.csv') {
  await page.setInputFiles('#csv-file', { name, mimeType: 'text/csv', buffer: Buffer.from(text) });
}

async function closeDialog(page) {
  await page.click('dialog[open] .close');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
}

/** importProducts imports a clean file through the Products screen. */
async function importProducts(page, csv) {
  await go(page, 'products', '#import-csv');
  await page.click('#import-csv');
  await chooseFile(page, csv);
  await page.waitForSelector('#import-go:not([disabled])');
  await page.click('#import-go');
  await page.waitForFunction(() => /Imported: \d+ created/.test(document.getElementById('import-report').textContent));
  const said = await page.textContent('#import-report');
  await closeDialog(page);
  return said;
}

/**
 * pairTill adds a till on the Tills screen and pairs a till page with its
 * code, as the QR code does: the till page opened at #pair=CODE.
 */
async function pairTill(env, office, name) {
  await go(office, 'tills', '#add-till');
  await office.click('#add-till');
  await office.fill('#till-name', name);
  await office.click('dialog[open] .actions button.primary');
  await office.waitForSelector('#pair-code');
  const code = (await office.textContent('#pair-code')).trim();
  assert.match(code, /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/, 'a 6-character code');
  await office.waitForFunction(() => (document.getElementById('pair-qr').src || '').startsWith('data:image/svg+xml'));
  // The office is open on 127.0.0.1 here (posd without HTTPS knows no
  // network address): the link and QR code keep the address, and the
  // dialog says a tablet cannot reach it.
  assert.equal(await office.textContent('#pair-url'), `${new URL(office.url()).origin}/till/#pair=${code}`);
  assert.match(await office.textContent('#pair-loopback'), /a till cannot reach/);
  const till = await env.till();
  await till.goto(`${env.proxy.url}/till/#pair=${code}`);
  await till.waitForSelector('#view-sell:not([hidden])', { timeout: 30000 });
  await office.waitForFunction(() => /is paired/.test(document.getElementById('pair-state').textContent), null, { timeout: 20000 });
  return { till, code };
}

async function complete(till) {
  await till.click('#complete');
  await till.waitForSelector('#view-receipt:not([hidden])', { timeout: 60000 });
}

async function newSale(till) {
  await till.click('#new-sale');
  await till.waitForSelector('#view-sell:not([hidden])');
}

async function figure(page, name) {
  return (await page.textContent(`[data-figure=${name}] .value`)).trim();
}

test('a new owner: sign in from the printed address, import products (bad rows, fixed, again), pair a till by code, sell, see it on Today and in the journal', async (t) => {
  const env = await setupOffice(t);
  assert.match(env.posd.officeURL || '', /^http:\/\/127\.0\.0\.1:\d+\/office\/#token=posd_/, 'serve printed the office address with the owner token');
  const office = await env.office();
  await signInOffice(office, env);
  assert.doesNotMatch(office.url(), /token/, 'the token left the address bar');
  assert.equal(await office.textContent('#shop-name'), 'My Shop');

  // A file with bad rows: every one listed, nothing written.
  await go(office, 'products', '#import-csv');
  await office.click('#import-csv');
  await chooseFile(office, BAD_CSV);
  await office.waitForSelector('#import-errors');
  const errs = await office.$$eval('#import-errors tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  assert.deepEqual(errs.map((e) => [e[0], e[1]]), [['3', 'sku'], ['4', 'price'], ['5', 'taxRate']], 'each bad row by line and column');
  assert.match(errs[1][2], /12\.50/, 'the price error says the format');
  assert.equal(await office.isDisabled('#import-go'), true, 'nothing can be imported from a bad file');
  await shot(office, 'products-import-errors', { readme: true });
  assert.equal((await env.posd.api('GET', '/api/products')).products.length, 0, 'the bad file wrote nothing');
  // Fixed: imported.
  await chooseFile(office, GOOD_CSV, 'products-fixed.csv');
  await office.waitForSelector('#import-go:not([disabled])');
  assert.match(await office.textContent('#import-report'), /3 to create/);
  await office.click('#import-go');
  await office.waitForFunction(() => /Imported: 3 created, 0 changed/.test(document.getElementById('import-report').textContent));
  // The same file again: nothing to do.
  await chooseFile(office, GOOD_CSV, 'products-again.csv');
  await office.waitForFunction(() => /0 created, 0 changed/.test(document.getElementById('import-report').textContent));
  assert.equal(await office.isDisabled('#import-go'), true);
  await closeDialog(office);
  await office.waitForSelector(`tr[data-sku="${BREAD}"]`);
  await shot(office, 'products', { readme: true });
  assert.equal((await env.posd.api('GET', '/api/products')).products.length, 3);

  // A till, paired by its code.
  const { till } = await pairTill(env, office, 'Counter');
  await shot(office, 'tills-paired', { readme: true });
  await ring(till, APPLE);
  await ring(till, BREAD);
  await complete(till);
  const number = await till.getAttribute('#receipt-number', 'data-number');
  assert.match(number, /^INV-\d{6}-0001$/);
  await closeDialog(office);

  // Today shows it.
  await go(office, 'today', '[data-figure=count]');
  await waitFor(async () => (await figure(office, 'count')) === '1', { what: 'one sale on Today' });
  assert.equal(await figure(office, 'gross'), '€14.00');
  await office.waitForSelector('[data-till="Counter"]');
  await shot(office, 'today', { readme: true });

  // The journal lists it; its detail has the lines.
  await go(office, 'journal', `tr[data-number="${number}"]`);
  await office.click(`tr[data-number="${number}"]`);
  await office.waitForSelector('dialog[open]');
  assert.match(await office.textContent('dialog[open]'), /Apple[\s\S]*Bread/);
  // Its hash, the short form (the receipt's) first.
  const sold = (await env.posd.sales()).find((x) => x.invoiceNumber === number);
  assert.equal(await office.getAttribute('dialog[open] code.hash', 'data-hash'), sold.hash);
  assert.equal(await office.textContent('dialog[open] code.hash strong'), sold.hash.slice(0, 8));
  await shot(office, 'journal-sale', { readme: true });
  // Refund the bread from the journal.
  await office.click('dialog[open] .actions button.primary');
  await office.fill(`dialog[open] input[data-sku="${BREAD}"]`, '1');
  assert.match(await office.textContent('#refund-total'), /12\.50/);
  await office.click('dialog[open] .actions button.primary');
  const said = await toastText(office, /Refunded/);
  assert.match(said, /Refunded €12\.50 from INV-\d{6}-0001 as RET-\d{6}-0001/);
  const sale = (await env.posd.sales())[0];
  assert.equal(sale.returns.length, 1, 'posd holds the refund against the sale');
  assert.deepEqual(env.errors, []);
});

test('a paired till goes offline and sells 3: Tills shows it offline with its last report; back online it drains and Today includes the 3', async (t) => {
  const env = await setupOffice(t);
  const office = await env.office();
  await signInOffice(office, env);
  await importProducts(office, GOOD_CSV);
  const { till } = await pairTill(env, office, 'Window');
  await closeDialog(office);
  // The till page reports itself (PUT /api/tills/current/status) as soon
  // as it is signed in.
  await waitFor(async () => (await env.posd.api('GET', '/api/tills')).tills[0].lastSeenAt, { timeout: 20000, what: 'the till\'s first status report' });
  await ring(till, APPLE);
  await complete(till);
  await newSale(till);
  // The shop's Wi-Fi drops for this till.
  env.proxy.block();
  for (let i = 0; i < 3; i++) {
    await ring(till, BREAD);
    await complete(till);
    await newSale(till);
  }
  await waitFor(async () => Number(await till.textContent('#queued-count')) === 3, { what: 'three sales queued on the till' });
  await go(office, 'tills', '[data-till="Window"]');
  // Offline, and seen before: a row that still says "Never reported" (the
  // screen loaded before the till's first report) is offline too, so wait
  // for the screen's 5-second reload to show the report's time.
  await office.waitForFunction(() => {
    const r = document.querySelector('[data-till="Window"][data-online="false"]');
    return r && /Offline since/.test(r.textContent);
  }, null, { timeout: 45000 });
  const row = await office.textContent('[data-till="Window"]');
  assert.match(row, /Offline since/);
  await shot(office, 'tills-offline', { readme: true });
  await go(office, 'today', '#alerts');
  await office.waitForFunction(() => /Window is offline since/.test(document.getElementById('alerts').textContent));
  await shot(office, 'today-alerts', { readme: true });
  assert.equal((await env.posd.sales()).length, 1, 'posd has only the sale before the drop');

  env.proxy.unblock();
  await waitFor(async () => Number(await till.textContent('#queued-count')) === 0, { timeout: 30000, what: 'the queue drained' });
  await waitFor(async () => (await figure(office, 'count')) === '4', { timeout: 20000, what: 'Today counting the 3' });
  assert.equal(await figure(office, 'gross'), '€39.00');
  await go(office, 'tills', '[data-till="Window"][data-online="true"]');
  await waitFor(async () => (await office.textContent('[data-till="Window"] td:nth-child(5)')).trim() === '0', { timeout: 20000, what: 'Tills showing 0 queued' });
  const sales = await env.posd.sales();
  assert.equal(sales.length, 4);
  assert.deepEqual(sales.map((s) => s.invoiceNumber.slice(-4)), ['0001', '0002', '0003', '0004']);
  assert.deepEqual(env.errors, []);
});

test('revoking a till: its next sale is refused with a clear message on the till, and the sales it sent are all there', async (t) => {
  const env = await setupOffice(t);
  const office = await env.office();
  await signInOffice(office, env);
  await importProducts(office, GOOD_CSV);
  const { till } = await pairTill(env, office, 'Spare');
  await closeDialog(office);
  for (let i = 0; i < 2; i++) {
    await ring(till, APPLE);
    await complete(till);
    await newSale(till);
  }
  // The next sale is in the cart when the till is revoked.
  await ring(till, APPLE);
  await go(office, 'tills', '[data-till="Spare"]');
  await office.click('[data-till="Spare"] button:has-text("Revoke")');
  await office.click('dialog[open] .actions button.danger');
  await toastText(office, /Revoked “Spare”/);
  await office.waitForSelector('[data-till="Spare"]', { state: 'detached' });
  // The till learns of it from its next request: the sale, or its own
  // status report if that comes first (then the sale is never sent).
  await till.click('#complete', { timeout: 5000 }).catch(() => {});
  await till.waitForSelector('#view-signin:not([hidden])', { timeout: 30000 });
  assert.match(await till.textContent('#signin-notice'), /This till was removed in the office; ask for a new pairing code/);
  await shot(till, 'till-revoked');
  const sales = await env.posd.sales();
  assert.equal(sales.length, 2, 'the two sales it sent are there, nothing more');
  assert.deepEqual(env.errors, []);
});

test('a manager sees no Tokens screen, and the tokens API refuses it', async (t) => {
  const env = await setupOffice(t);
  const mgr = await env.posd.api('POST', '/api/tokens', { role: 'manager', name: 'Anna' });
  const office = await env.office();
  await signInOffice(office, env, mgr.token);
  assert.equal(await office.textContent('#who'), 'Manager');
  const nav = await office.$$eval('#nav a', (as) => as.map((a) => a.textContent));
  assert.equal(nav.includes('Tokens'), false, 'no Tokens in the navigation');
  assert.equal(nav.includes('Tills'), true);
  await go(office, 'tokens');
  assert.match(await office.textContent('#screen'), /Only the owner/);
  const r = await office.evaluate(async (tok) => (await fetch('/api/tokens', { headers: { Authorization: `Bearer ${tok}` } })).status, mgr.token);
  assert.equal(r, 403);
  const r2 = await office.evaluate(async (tok) => (await fetch('/api/tokens', { method: 'POST', headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'm-1' }, body: '{"role":"owner","name":"me"}' })).status, mgr.token);
  assert.equal(r2, 403);
  // A manager can start no backup either.
  // (The panel is there at once and filled when /api/health/details answers.)
  await go(office, 'health', '#backup-panel');
  await office.waitForFunction(() => /Only the owner can start a backup/.test(document.getElementById('backup-panel').textContent), null, { timeout: 20000 });
  // A till token is not let in.
  const tl = await env.posd.api('POST', '/api/tokens', { role: 'till', name: 'T' });
  await office.click('#signout');
  await office.fill('#token', tl.token);
  await office.press('#token', 'Enter');
  await office.waitForFunction(() => /This is a till token/.test(document.getElementById('signin-error').textContent));
  assert.deepEqual(env.errors, []);
});

test('Stock: negative stock flagged, an adjustment with a reason, a count posted as one adjustment, a product’s history', async (t) => {
  const env = await setupOffice(t);
  const office = await env.office();
  await signInOffice(office, env);
  await importProducts(office, GOOD_CSV);
  const loc = (await env.posd.api('GET', '/api/locations')).locations[0].id;
  const ps = (await env.posd.api('GET', '/api/products')).products;
  const apple = ps.find((p) => p.sku === APPLE);
  // A sale with no stock: the apple goes negative.
  await env.posd.api('POST', '/api/sales', { locationId: loc, items: [{ productId: apple.id, quantity: 3 }], payments: [{ method: 'cash', amount: 450 }] });
  await go(office, 'stock', `tr[data-sku="${APPLE}"]`);
  assert.match(await office.textContent(`tr[data-sku="${APPLE}"]`), /-3\s*negative/);
  assert.match(await office.textContent('#screen'), /1 product below zero/);
  await office.click(`tr[data-sku="${APPLE}"] button:has-text("Adjust")`);
  await office.fill('#adjust-qty', '10');
  await office.selectOption('#adjust-reason', 'Found');
  await office.click('dialog[open] .actions button.primary');
  await toastText(office, /Adjusted Apple by 10 \(Found\)/);
  await office.waitForFunction((sku) => document.querySelector(`tr[data-sku="${sku}"] td:nth-child(3)`).textContent.trim() === "7", APPLE);
  // A count: the shelf has 5 apples and 2 breads.
  await office.click('#start-count');
  await office.fill(`input[data-count="${APPLE}"]`, '5');
  await office.fill(`input[data-count="${BREAD}"]`, '2');
  assert.match(await office.textContent(`tr[data-sku="${APPLE}"]`), /-2/);
  await shot(office, 'stock-count', { readme: true });
  await office.click('#post-count');
  await toastText(office, /Posted the count: 2 counted, 2 corrected in one adjustment/);
  const levels = Object.fromEntries((await env.posd.api('GET', `/api/stock?locationId=${loc}`)).items.map((i) => [i.productId, i.quantity]));
  assert.equal(levels[apple.id], 5);
  assert.equal(levels[ps.find((p) => p.sku === BREAD).id], 2);
  // The apple's history: the sale, the adjustment, the count.
  await office.click(`tr[data-sku="${APPLE}"] button.link`);
  await office.waitForSelector('dialog[open] table.data tbody tr');
  const hist = await office.$$eval('dialog[open] table.data tbody tr', (trs) => trs.map((tr) => tr.textContent));
  assert.equal(hist.length, 3);
  assert.match(hist[2], /Sale INV-/);
  assert.match(hist[0], /Stock count/);
  assert.deepEqual(env.errors, []);
});

test('Purchases & transfers: a receipt drafted and approved (RCV), a transfer sent and received (TRF)', async (t) => {
  const env = await setupOffice(t);
  await env.posd.api('POST', '/api/locations', { name: 'Store room' });
  const office = await env.office();
  await signInOffice(office, env);
  await importProducts(office, GOOD_CSV);
  await go(office, 'purchases', '#new-receipt');
  await office.click('#new-receipt');
  await office.fill('#doc-supplier', 'Orchard Ltd');
  await office.fill('#doc-search', APPLE);
  await office.press('#doc-search', 'Enter');
  await office.fill(`dialog[open] tr[data-sku="${APPLE}"] input >> nth=0`, '20');
  await office.fill(`dialog[open] tr[data-sku="${APPLE}"] input >> nth=1`, '0.60');
  await office.click('dialog[open] .actions button.primary');
  await toastText(office, /Saved a draft receipt from Orchard Ltd/);
  await office.click('tr[data-supplier="Orchard Ltd"] button:has-text("Approve")');
  const said = await toastText(office, /Approved RCV-/);
  assert.match(said, /Approved RCV-\d{6}-0001: 1 line\(s\) added to stock at Main/);
  // A transfer of 5 apples to the store room.
  await office.click('#tab-transfers');
  await office.click('#new-transfer');
  await office.selectOption('#doc-to', { label: 'Store room' });
  await office.fill('#doc-search', 'apple');
  await office.click('dialog[open] .picker li button');
  await office.fill(`dialog[open] tr[data-sku="${APPLE}"] input`, '5');
  await office.click('dialog[open] .actions button.primary');
  await toastText(office, /Saved a draft transfer to Store room/);
  await office.click('tr[data-status="draft"] button:has-text("Send")');
  assert.match(await toastText(office, /Sent TRF-/), /Sent TRF-\d{6}-0001: the goods left Main/);
  await office.click('tr[data-status="in_transit"] button:has-text("Receive")');
  await toastText(office, /Received TRF-\d{6}-0001 at Store room/);
  await office.waitForSelector('tr[data-status="received"]');
  await shot(office, 'transfers', { readme: true });
  const locs = (await env.posd.api('GET', '/api/locations')).locations;
  const apple = (await env.posd.api('GET', '/api/products')).products.find((p) => p.sku === APPLE);
  const at = async (name) => ((await env.posd.api('GET', `/api/stock?locationId=${locs.find((l) => l.name === name).id}`)).items.find((i) => i.productId === apple.id) || {}).quantity;
  assert.equal(await at('Main'), 15);
  assert.equal(await at('Store room'), 5);
  // Both are in the journal under their series.
  await go(office, 'journal?series=RCV', 'tr[data-number^="RCV-"]');
  await go(office, 'journal?series=TRF', 'tr[data-number^="TRF-"]');
  assert.deepEqual(env.errors, []);
});

test('Tokens and Backups & health: a manager token made (secret shown once) and revoked; back up now', async (t) => {
  const env = await setupOffice(t);
  const office = await env.office();
  await signInOffice(office, env);
  await go(office, 'tokens', '#new-token');
  await office.click('#new-token');
  await office.fill('dialog[open] input[placeholder^="e.g."]', 'Anna (manager)');
  await office.click('dialog[open] .actions button.primary');
  await office.waitForSelector('#token-secret');
  const secret = (await office.textContent('#token-secret')).trim();
  assert.match(secret, /^posd_/);
  const me = await fetch(`${env.posd.url}/api/me`, { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal((await me.json()).token.role, 'manager');
  await closeDialog(office);
  await office.click('tr[data-name="Anna (manager)"] button:has-text("Revoke")');
  await office.click('dialog[open] .actions button.danger');
  await toastText(office, /Revoked “Anna \(manager\)”/);
  assert.equal((await fetch(`${env.posd.url}/api/me`, { headers: { Authorization: `Bearer ${secret}` } })).status, 401);

  await go(office, 'health', '#backup-now');
  // The first automatic backup may be running already; wait for the button.
  await office.waitForSelector('#backup-now:not([disabled])', { timeout: 60000 });
  await office.click('#backup-now');
  await toastText(office, /Backup written: .*posd-auto-.*verified/, 60000);
  await shot(office, 'health', { readme: true });
  const h = await env.posd.api('GET', '/api/health/details');
  assert.ok(h.backup.lastSuccess, 'posd has a good backup');
  assert.equal(h.duplicateDocuments, 0);
  assert.deepEqual(env.errors, []);
});

test('Export and Integrity: the month downloads as the zip posd gives; the chains check out; a kept manifest matches, an altered one is named', async (t) => {
  const env = await setupOffice(t);
  const loc = (await env.posd.api('GET', '/api/locations')).locations[0].id;
  const apple = await env.posd.api('POST', '/api/products', { sku: APPLE, name: 'Apple', price: 150, taxRate: 20 });
  const bread = await env.posd.api('POST', '/api/products', { sku: BREAD, name: 'Bread', price: 1250, taxRate: 7 });
  const sale = await env.posd.api('POST', '/api/sales', { locationId: loc, items: [{ productId: apple.id, quantity: 2 }, { productId: bread.id, quantity: 1 }], payments: [{ method: 'cash', amount: 2000 }] });
  await env.posd.api('POST', '/api/sales', { locationId: loc, items: [{ productId: apple.id, quantity: 1 }], payments: [{ method: 'card', amount: 150 }] });
  const ret = await env.posd.api('POST', `/api/sales/${sale.id}/refund`, { items: [{ productId: apple.id, quantity: 1 }] });
  assert.match(sale.hash, /^[0-9a-f]{64}$/, 'a sale is answered with its hash');
  assert.equal(ret.saleHash, sale.hash, 'a refund names its sale\'s hash');
  const office = await env.office();
  await signInOffice(office, env);

  // Export: this month, downloaded; the same bytes as the API's zip.
  await go(office, 'export', '#export-zip');
  await office.click('#export-this-month');
  const from = await office.inputValue('#export-from');
  const to = await office.inputValue('#export-to');
  const [download] = await Promise.all([office.waitForEvent('download'), office.click('#export-zip')]);
  assert.equal(download.suggestedFilename(), `posd-export-${from}-${to}.zip`);
  const file = path.join(env.root, 'export.zip');
  await download.saveAs(file);
  const got = readFileSync(file);
  const r = await fetch(`${env.posd.url}/api/export?from=${from}&to=${to}`, { headers: { Authorization: `Bearer ${env.posd.owner}` } });
  assert.ok(Buffer.from(await r.arrayBuffer()).equals(got), 'the download is the export posd gives, byte for byte');
  await office.waitForSelector('#export-result .msg.ok');
  assert.match(await office.textContent('#export-result .msg.ok'), /holds 3 numbered documents/);
  const inv = sale.invoiceNumber.replace(/-\d+$/, '');
  await office.waitForSelector(`#export-result tr[data-series="${inv}"]`);
  assert.match(await office.textContent(`#export-result tr[data-series="${inv}"]`), new RegExp(`${inv}-0001.*${inv}-0002.*2`));
  assert.match(await office.textContent('#export-result tr[data-rate="20"]'), /3\.00/);
  await shot(office, 'export', { readme: true });

  // Integrity: every chain recomputed, all well.
  await go(office, 'integrity', '#integrity-status .msg');
  assert.match(await office.textContent('#integrity-status'), /All 3 numbered documents in 2 series are unchanged/);
  assert.equal(await office.getAttribute(`#integrity-series tr[data-series="${inv}"]`, 'data-ok'), 'true');
  // The manifest kept from the export: every anchored document still carries its hash.
  const manifest = await env.posd.api('GET', `/api/export/manifest.json?from=${from}&to=${to}`);
  await office.setInputFiles('#manifest-file', { name: 'manifest.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(manifest)) });
  await office.waitForSelector('#anchor-result .msg');
  assert.match(await office.textContent('#anchor-result .msg'), /All 3 documents the export of .* still carry the same hashes/);
  await shot(office, 'integrity', { readme: true });
  // A manifest whose head no longer matches (as after a rewritten chain): named.
  const altered = structuredClone(manifest);
  const s = altered.series.find((x) => x.series === inv);
  s.headHash = 'f'.repeat(64);
  await office.setInputFiles('#manifest-file', { name: 'manifest-old.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(altered)) });
  await office.waitForSelector('#anchor-result .msg.bad');
  assert.match(await office.textContent('#anchor-result .msg.bad'), /1 of 3 documents no longer carry the hash/);
  assert.equal(await office.getAttribute(`#anchor-result tr[data-anchor="${inv}-0002"]`, 'data-ok'), 'false');
  // Not a manifest at all: said so.
  await office.setInputFiles('#manifest-file', { name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello":1}') });
  await office.waitForFunction(() => /is not the manifest\.json of a posd export/.test(document.getElementById('anchor-result').textContent));
  assert.deepEqual(env.errors, []);
});

test('on a tablet (768×1024) the office fits: the navigation becomes a row of tabs', async (t) => {
  const env = await setupOffice(t);
  const office = await env.office({ width: 768, height: 1024 });
  await signInOffice(office, env);
  await importProducts(office, GOOD_CSV);
  await go(office, 'products', `tr[data-sku="${APPLE}"]`);
  const overflow = await office.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px)`);
  const nav = await office.evaluate(() => getComputedStyle(document.getElementById('nav')).display);
  assert.equal(nav, 'flex');
  await shot(office, 'tablet-products', { readme: true });
  await go(office, 'today', '[data-figure=count]');
  await sleep(300);
  await shot(office, 'tablet-today');
  assert.deepEqual(env.errors, []);
});
