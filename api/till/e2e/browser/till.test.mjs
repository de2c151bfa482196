// Browser tests of the till: Debian's Chromium against a real posd serve,
// through a proxy that can stop, slow down or cut the traffic. Every test
// counts the sales posd holds at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { setup, signIn, enterToken, ring, swReady, queued, screenshot, waitFor, sleep } from './harness.mjs';

const APPLE = '4006381333931';
const CHEESE = '2000000000015';
const BREAD = '5000112548167';

async function complete(page) {
  await page.click('#complete');
  await page.waitForSelector('#view-receipt:not([hidden])', { timeout: 60000 });
}

async function newSale(page) {
  await page.click('#new-sale');
  await page.waitForSelector('#view-sell:not([hidden])');
}

async function status(page, want, timeout = 20000) {
  await page.waitForSelector(`#conn[data-status=${want}]`, { timeout });
}

async function waitQueued(page, n, timeout = 30000) {
  await waitFor(async () => (await queued(page)) === n, { timeout, what: `queued counter ${n}` });
}

function distinct(xs) {
  return new Set(xs).size;
}

test('1. ten rapid clicks on Complete sale make exactly one sale', async (t) => {
  const env = await setup(t);
  const page = await env.open();
  await signIn(page, env.tillToken);
  await ring(page, APPLE);
  env.proxy.delayPostMs = 4000; // the sale is in flight while the clicks land
  const box = await page.locator('#complete').boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await Promise.all(Array.from({ length: 10 }, () => page.mouse.click(x, y)));
  assert.equal(await page.locator('#complete').isDisabled(), true, 'the button is disabled while submitting');
  assert.match(await page.textContent('#complete'), /Sending sale/);
  assert.equal(await page.locator('#complete.busy .spinner').isVisible(), true, 'a spinner shows');
  // Clicks on the disabled button, and a programmatic storm, change nothing.
  await page.evaluate(() => {
    for (let i = 0; i < 10; i++) document.getElementById('complete').click();
  });
  await page.waitForSelector('#view-receipt:not([hidden])');
  const number = await page.getAttribute('#receipt-number', 'data-number');
  assert.match(number, /^INV-\d{6}-0001$/);
  const sales = await env.posd.sales();
  assert.equal(sales.length, 1, 'posd holds exactly one sale');
  assert.equal(sales[0].invoiceNumber, number);
  assert.equal(env.proxy.salePosts().length, 1, 'one POST reached posd');
  // The receipt carries the short form of the sale's hash, as posd keeps it.
  assert.match(sales[0].hash, /^[0-9a-f]{64}$/);
  assert.equal(await page.textContent('#receipt-hash-short'), sales[0].hash.slice(0, 8));
});

test('2. posd stopped: the sale is queued, then sent by itself when posd is back', async (t) => {
  const env = await setup(t);
  const page = await env.open();
  await signIn(page, env.tillToken);
  await env.posd.stop();
  await status(page, 'unreachable');
  await ring(page, APPLE);
  await complete(page);
  assert.equal(await page.isVisible('#receipt-provisional'), true, 'the receipt says the number follows');
  const ref = await page.textContent('#receipt-ref');
  assert.match(ref, /^T-[0-9A-F]{8}$/);
  assert.equal(await page.getAttribute('#receipt-number', 'data-number'), '');
  assert.equal(await page.isVisible('#receipt-hash'), false, 'a provisional receipt has no hash yet');
  await waitQueued(page, 1);
  assert.equal(env.proxy.salePosts().length, 0, 'nothing was sent while posd was down');

  await env.posd.start();
  await waitQueued(page, 0);
  await status(page, 'online');
  // The receipt still on screen gets its number; the recent-sales list shows it too.
  await page.waitForSelector('#receipt-number[data-number^="INV-"]');
  const number = await page.getAttribute('#receipt-number', 'data-number');
  assert.match(await page.textContent('#receipt-hash-short'), /^[0-9a-f]{8}$/, 'the hash follows with the number');
  await page.click('#nav-sales');
  await page.waitForSelector(`#sales-list li[data-number="${number}"][data-ref="${ref}"]`);
  const sales = await env.posd.sales();
  assert.equal(sales.length, 1);
  assert.equal(sales[0].invoiceNumber, number);
  assert.equal(env.proxy.salePosts().length, 1, 'sent once');
});

test('3. the queue survives a reload and a browser restart while posd is unreachable', async (t) => {
  const env = await setup(t);
  let page = await env.open();
  await signIn(page, env.tillToken);
  await swReady(page);
  env.proxy.block();
  await status(page, 'unreachable');
  await ring(page, APPLE);
  await complete(page);
  await newSale(page);
  await ring(page, BREAD);
  await complete(page);
  await waitQueued(page, 2);

  await page.reload(); // posd is unreachable: the service worker serves the till
  await page.waitForSelector('#view-sell:not([hidden])');
  await waitQueued(page, 2);
  await status(page, 'unreachable');

  await env.browser.close(); // the browser goes away, and comes back on the same profile
  page = await env.open();
  await page.waitForSelector('#view-sell:not([hidden])');
  await waitQueued(page, 2);
  assert.equal(env.proxy.salePosts().length, 0);

  env.proxy.unblock();
  await waitQueued(page, 0);
  const posts = env.proxy.salePosts();
  assert.equal(posts.length, 2, 'each queued sale sent once');
  assert.equal(distinct(posts.map((p) => p.key)), 2);
  const sales = await env.posd.sales();
  assert.equal(sales.length, 2);
  assert.deepEqual(sales.map((s) => s.items[0].sku), [APPLE, BREAD], 'sent in the order they were rung up');
});

test('4. slow network: posd answers after 20 s; no timeout, no duplicate', async (t) => {
  const env = await setup(t);
  const page = await env.open();
  await signIn(page, env.tillToken);
  await ring(page, CHEESE);
  env.proxy.delayPostMs = 20000;
  const started = Date.now();
  await page.click('#complete');
  await sleep(3000);
  assert.equal(await page.locator('#complete').isDisabled(), true);
  assert.match(await page.textContent('#complete'), /Sending sale/);
  await page.waitForSelector('#view-receipt:not([hidden])', { timeout: 60000 });
  assert.ok(Date.now() - started >= 19000, 'the receipt came with posd’s late answer');
  assert.match(await page.getAttribute('#receipt-number', 'data-number'), /^INV-\d{6}-0001$/);
  assert.equal(await page.isVisible('#receipt-provisional'), false);
  assert.equal(env.proxy.salePosts().length, 1, 'no retry: the attempt did not time out');
  assert.equal((await env.posd.sales()).length, 1);
});

test('5. lost response after commit: the retry replays the original', async (t) => {
  const env = await setup(t);
  const page = await env.open();
  await signIn(page, env.tillToken);
  await ring(page, BREAD);
  env.proxy.dropPosts = 1;
  await complete(page);
  const number = await page.getAttribute('#receipt-number', 'data-number');
  assert.match(number, /^INV-\d{6}-0001$/);
  const posts = env.proxy.salePosts();
  assert.equal(posts.length, 2, 'the first answer was lost, the retry got one');
  assert.equal(posts[0].outcome, 'dropped 201', 'posd had answered (and committed) the first');
  assert.equal(posts[0].key, posts[1].key, 'the retry used the same key');
  const sales = await env.posd.sales();
  assert.equal(sales.length, 1);
  assert.equal(sales[0].invoiceNumber, number, 'same number on screen as in posd');
  await page.click('#nav-sales');
  await page.waitForSelector(`#sales-list li[data-number="${number}"]`);
  assert.equal(await page.locator('#sales-list li[data-number]').count(), 1);
});

test('6. two tabs of the same till with queued sales: each sale once', async (t) => {
  const env = await setup(t);
  const a = await env.open();
  await signIn(a, env.tillToken);
  const b = await env.browser.newPage();
  await b.goto(`${env.proxy.url}/till/`);
  await b.waitForSelector('#view-sell:not([hidden])');
  env.proxy.block();
  await status(a, 'unreachable');
  await status(b, 'unreachable');
  for (const [page, sku] of [
    [a, APPLE],
    [b, BREAD],
    [a, CHEESE],
    [b, APPLE],
  ]) {
    await page.bringToFront();
    await ring(page, sku);
    await complete(page);
    await newSale(page);
  }
  await waitQueued(a, 4);
  await waitQueued(b, 4);
  env.proxy.unblock();
  await waitQueued(a, 0);
  await waitQueued(b, 0);
  const posts = env.proxy.salePosts();
  assert.equal(posts.length, 4, `4 POSTs, one per sale (saw ${posts.length}): exactly one tab sends`);
  assert.equal(distinct(posts.map((p) => p.key)), 4);
  const sales = await env.posd.sales();
  assert.equal(sales.length, 4);
  assert.deepEqual(sales.map((s) => s.items[0].sku).sort(), [APPLE, APPLE, BREAD, CHEESE].sort());
});

test('7. a queued sale posd refuses is parked and shown; later sales still go through', async (t) => {
  const env = await setup(t);
  const page = await env.open();
  await signIn(page, env.tillToken);
  env.proxy.block();
  await status(page, 'unreachable');
  await ring(page, APPLE);
  await complete(page);
  await newSale(page);
  await ring(page, BREAD);
  await complete(page);
  await newSale(page);
  await waitQueued(page, 2);
  // Meanwhile the manager archives the apple: posd will answer 404 for it.
  await env.posd.api('PATCH', `/api/products/${env.products.apple.id}`, { archived: true });
  env.proxy.unblock();
  await waitQueued(page, 0);
  await page.waitForSelector('#parked-note:not([hidden])');
  assert.equal(await page.textContent('#parked-count'), '1');
  await page.click('#queue-btn');
  await page.waitForSelector('#parked-list li.parked');
  assert.match(await page.textContent('#parked-list li.parked'), /does not know a product/);
  await screenshot(page, 'parked');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-parked')]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.parked.length, 1);
  assert.equal(exported.parked[0].body.items[0].productId, env.products.apple.id);
  assert.equal(exported.parked[0].answer.status, 404);
  const sales = await env.posd.sales();
  assert.equal(sales.length, 1, 'the bread sale went through');
  assert.equal(sales[0].items[0].sku, BREAD);
  const posts = env.proxy.salePosts();
  assert.deepEqual(posts.map((p) => p.outcome), ['404', '201'], 'the refused one was sent once, never retried');
});

test('8. the indicator and the counter tell the truth; screenshots of each state', async (t) => {
  const env = await setup(t, { bound: false });
  const page = await env.open();
  await screenshot(page, 'signin');
  await enterToken(page, env.tillToken);
  // Not bound to a location: the till asks where it is.
  await page.waitForSelector('#view-location:not([hidden]) button');
  await page.click('#location-list button:has-text("Main")');
  await page.waitForSelector('#view-sell:not([hidden])');
  await status(page, 'online');
  assert.equal(await page.textContent('#conn'), 'Online');
  assert.equal(await queued(page), 0);

  // A sale with a weighed item (0.25 kg), paid cash with change.
  await ring(page, APPLE);
  await ring(page, APPLE);
  await ring(page, CHEESE);
  const cheeseQty = page.locator(`#cart-lines tr[data-sku="${CHEESE}"] .qty-input`);
  await cheeseQty.fill('0.25');
  await cheeseQty.press('Enter');
  await page.fill('#cash-given', '10');
  await page.press('#cash-given', 'Enter');
  await waitFor(async () => (await page.textContent('#total')).includes('8.00'), { what: 'total 8.00' }); // 3.00 + 5.00 (1999 × 0.25 = 499.75 → 500)
  assert.match(await page.textContent('#change'), /2\.00/);
  await screenshot(page, 'online');
  await complete(page);
  assert.match(await page.getAttribute('#receipt-number', 'data-number'), /^INV-/);
  await screenshot(page, 'receipt');
  await newSale(page);

  env.proxy.block();
  await status(page, 'unreachable');
  assert.equal(await page.textContent('#conn'), 'posd unreachable');
  await ring(page, BREAD);
  await complete(page);
  await screenshot(page, 'receipt-provisional');
  await newSale(page);
  await waitQueued(page, 1);
  await ring(page, APPLE);
  await screenshot(page, 'unreachable-queued');

  await page.context().setOffline(true);
  await status(page, 'offline');
  assert.match(await page.textContent('#conn'), /Offline/);
  assert.equal(await queued(page), 1);
  await screenshot(page, 'offline-queued');

  await page.context().setOffline(false);
  await status(page, 'unreachable');
  env.proxy.unblock();
  await status(page, 'online');
  await waitQueued(page, 0);
  await page.click('#nav-sales');
  await page.waitForSelector('#sales-list li[data-number$="-0002"]');
  await screenshot(page, 'recent-sales');

  // Refund one apple of the first sale, choosing the line and the quantity.
  await page.click('#sales-list li[data-number$="-0001"] .refund-btn');
  await page.waitForSelector('#view-refund:not([hidden])');
  await page.fill('#refund-lines input[data-index="0"]', '1');
  await waitFor(async () => (await page.textContent('#refund-total')).includes('1.50'), { what: 'refund total 1.50' });
  await page.click('#refund-submit');
  await page.waitForSelector('#refund-done:not([hidden])');
  assert.match(await page.textContent('#refund-done'), /Refund RET-\d{6}-0001 recorded \(check [0-9a-f]{8}\)\. Hand back €1\.50/);
  await screenshot(page, 'refund');

  const sales = await env.posd.sales();
  assert.equal(sales.length, 2);
  assert.equal(sales[0].total, 800);
  assert.equal(sales[0].change, 200);
  assert.deepEqual(sales[0].items.map((i) => i.quantity), [2, 0.25]);
  assert.equal(sales[0].returns.length, 1, 'one refund against the first sale');
  assert.equal(sales[0].items[0].refundedQuantity, 1);
});

test('9. a refund while posd is unreachable is kept, sent once when it is back, its lost answer replayed', async (t) => {
  const env = await setup(t);
  const page = await env.open();
  await signIn(page, env.tillToken);
  await ring(page, APPLE);
  await complete(page);
  const number = await page.getAttribute('#receipt-number', 'data-number');
  assert.match(await page.textContent('#receipt-hash-short'), /^[0-9a-f]{8}$/, 'the hash follows with the number');
  await page.click('#nav-sales');
  await page.waitForSelector(`#sales-list li[data-number="${number}"] .refund-btn`);

  env.proxy.block();
  await status(page, 'unreachable');
  await page.click(`#sales-list li[data-number="${number}"] .refund-btn`);
  await page.waitForSelector('#view-refund:not([hidden])');
  await page.fill('#refund-lines input[data-index="0"]', '1');
  await waitFor(async () => (await page.textContent('#refund-total')).includes('1.50'), { what: 'refund total 1.50' });
  await page.click('#refund-submit');
  await page.waitForSelector('#refund-done:not([hidden])');
  // The notice starts with the header's words for the state (issue 15.5; it said "posd cannot be reached" before).
  assert.equal(await page.textContent('#conn'), 'posd unreachable');
  assert.match(await page.textContent('#refund-done'), /^posd unreachable: the refund \(till ref T-[0-9A-F]{8}\) is kept on this till and sent by itself when posd answers again\. Hand back €1\.50/);
  assert.equal(await page.locator('#refund-submit').isDisabled(), true, 'the refund cannot be submitted a second time');
  await waitQueued(page, 1);
  const refundPosts = () => env.proxy.posts.filter((p) => p.path.endsWith('/refund'));
  assert.equal(refundPosts().length, 0, 'nothing reached posd while it was unreachable');

  // posd comes back, and the answer to the refund is lost after posd committed it.
  const before = env.proxy.posts.length;
  env.proxy.dropPosts = 1;
  env.proxy.unblock();
  await waitQueued(page, 0, 60000);
  const sent = env.proxy.posts.slice(before).filter((p) => p.path.endsWith('/refund'));
  assert.equal(sent.length, 2, 'the lost answer was retried once');
  assert.equal(sent[0].outcome, 'dropped 201', 'posd had committed the first');
  assert.equal(sent[1].outcome, '201', 'the retry got the recorded answer');
  assert.equal(sent[0].key, sent[1].key, 'the retry used the same key');

  const sales = await env.posd.sales();
  assert.equal(sales.length, 1);
  assert.equal(sales[0].returns.length, 1, 'exactly one refund against the sale');
  assert.equal(sales[0].items[0].refundedQuantity, 1);
  assert.equal(sales[0].items[0].refundedAmount, 150);
});
