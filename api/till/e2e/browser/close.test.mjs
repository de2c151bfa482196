// Browser tests of closing the day (issue 10): who is selling (a PIN), a
// shift with its float, cash paid out, the count by coin and note with a
// manager's PIN for a difference over the shop's limit, and the Z reports
// that close the day, with a till offline at closing time whose sales
// reach the next Z as late arrivals.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { setup, signIn, ring, queued, screenshot, waitFor } from './harness.mjs';

const APPLE = '4006381333931';
const CHEESE = '2000000000015';
const BREAD = '5000112548167';

/** staff makes the shop's cashiers and its limit for cash differences (2.00). */
async function staff(posd) {
  const anna = await posd.api('POST', '/api/cashiers', { name: 'Anna', role: 'cashier', pin: '4821' });
  const max = await posd.api('POST', '/api/cashiers', { name: 'Max', role: 'manager', pin: '1357' });
  await posd.api('PATCH', '/api/settings', { cashDifferenceLimit: 200 });
  return { anna, max };
}

/** typePIN types a PIN on the till's keypad, as a finger does. */
async function typePIN(page, pin) {
  for (const d of pin) await page.click(`#keypad button[data-key="${d}"]`);
  await page.click('#pin-btn');
}

async function sell(page, sku, cash) {
  await ring(page, sku);
  await page.fill('#cash-given', cash);
  await page.click('#complete');
  await page.waitForSelector('#view-receipt:not([hidden])', { timeout: 60000 });
  const number = await page.getAttribute('#receipt-number', 'data-number');
  await page.click('#new-sale');
  await page.waitForSelector('#view-sell:not([hidden])');
  return number;
}

async function figure(page, name) {
  return (await page.textContent(`#shift-figures dd[data-figure="${name}"]`)).trim();
}

async function count(page, coins) {
  for (const [value, n] of Object.entries(coins)) await page.fill(`#count-lines input[data-value="${value}"]`, String(n));
}

test('10.1: a cashier signs in by PIN, opens a shift with 100.00, sells three times in cash, refunds in cash, pays 20.00 out for milk, counts 5.00 short and a manager approves; the Z is the documents’ own', async (t) => {
  const env = await setup(t);
  const { anna, max } = await staff(env.posd);
  const page = await env.open();
  await signIn(page, env.tillToken);
  // The shop has cashiers: the till asks who is selling.
  await page.waitForSelector('#view-cashier:not([hidden])');
  await typePIN(page, '0000');
  await page.waitForSelector('#pin-error:not([hidden])');
  assert.match(await page.textContent('#pin-error'), /Wrong PIN; 4 more tries/);
  await screenshot(page, 'cashier-pin');
  await typePIN(page, '4821');
  await page.waitForSelector('#view-sell:not([hidden])');
  assert.match(await page.textContent('#cashier-name'), /Anna/);

  // Open the shift with a float of 100.00.
  await page.click('#nav-shift');
  await page.waitForSelector('#view-shift:not([hidden]) #shift-none:not([hidden])');
  await page.fill('#shift-float', '100');
  await page.click('#shift-open');
  await page.waitForSelector('#shift-live:not([hidden])');
  assert.match(await figure(page, 'Expected in the drawer'), /100\.00/);

  // Three cash sales (change 0.50, 1.80, 0.01) and a cash refund of 1.50.
  await page.click('#nav-sell');
  const s1 = await sell(page, APPLE, '2');
  await sell(page, BREAD, '5');
  await sell(page, CHEESE, '20');
  // Between sales the cashier changes: Max refunds.
  await page.click('#cashier-btn');
  await typePIN(page, '1357');
  await page.waitForSelector('#view-sell:not([hidden])');
  assert.match(await page.textContent('#cashier-name'), /Max/);
  await page.click('#nav-sales');
  await page.click(`#sales-list li[data-number="${s1}"] .refund-btn`);
  await page.waitForSelector('#view-refund:not([hidden])');
  assert.equal(await page.getAttribute('#refund-cash', 'aria-checked'), 'true', 'a cash sale goes back in cash');
  await page.fill('#refund-lines input', '1');
  await page.click('#refund-submit');
  await page.waitForSelector('#refund-done:not([hidden])');
  assert.match(await page.textContent('#refund-done'), /Hand back €1\.50/);

  // 20.00 out of the drawer for milk.
  await page.click('#nav-shift');
  await page.waitForSelector('#shift-live:not([hidden])');
  await page.click('#move-out');
  await page.fill('#move-amount', '20');
  await page.fill('#move-reason', 'milk');
  await page.click('#move-submit');
  await page.waitForSelector('#shift-done:not([hidden])');
  assert.match(await page.textContent('#shift-done'), /Paid out €20\.00 \(milk\)/);
  // 100.00 + 27.00 taken − 2.31 change − 1.50 refunded − 20.00 milk.
  await waitFor(async () => /103\.19/.test(await figure(page, 'Expected in the drawer')), { what: 'expected 103.19' });
  assert.match(await figure(page, 'Cash taken'), /27\.00/);
  assert.match(await figure(page, 'Change given'), /-€2\.31|−€2\.31|-2\.31/);
  assert.match(await page.textContent('#shift-moves'), /Paid out: milk/);
  await screenshot(page, 'shift-open');

  // The count, coin by coin: 98.19, 5.00 short of 103.19, over the 2.00
  // the shop allows: a manager must approve.
  await count(page, { 5000: 1, 2000: 2, 500: 1, 200: 1, 100: 1, 10: 1, 5: 1, 2: 2 });
  assert.match(await page.textContent('#count-sums dd[data-figure="Counted"]'), /98\.19/);
  assert.match(await page.textContent('#count-sums dd[data-figure="Difference"]'), /5\.00/);
  await page.click('#shift-close');
  await page.waitForSelector('#approval-part:not([hidden])');
  assert.match(await page.textContent('#approval-why'), /€5\.00 short: more than the €2\.00 this shop allows/);
  await page.fill('#manager-pin', '4821'); // a cashier's PIN is no manager's
  await page.click('#shift-close');
  await page.waitForSelector('#shift-error:not([hidden])');
  assert.match(await page.textContent('#shift-error'), /not a manager/);
  await screenshot(page, 'shift-approval');
  await page.fill('#manager-pin', '1357');
  await page.click('#shift-close');
  await page.waitForSelector('#shift-none:not([hidden])');
  assert.match(await page.textContent('#shift-done'), /Expected €103\.19, counted €98\.19: €5\.00 short, approved by Max/);
  await screenshot(page, 'shift-closed');

  // The documents: every sale and refund names Anna and carries the till's time.
  const sales = await env.posd.sales();
  assert.equal(sales.length, 3);
  for (const s of sales) {
    assert.equal(s.cashierId, anna.id);
    assert.ok(s.soldAt && s.shiftId, 'soldAt and the shift are on the sale');
  }
  const ret = await env.posd.api('GET', `/api/returns/${sales[0].returns[0]}`);
  assert.equal(ret.cashierId, max.id, 'the refund is Max’s');
  assert.equal(ret.method, 'cash');
  const shifts = await env.posd.api('GET', `/api/shifts?locationId=${env.posd.locationId}`);
  const sh = shifts.shifts[0];
  assert.deepEqual([sh.cash.expected, sh.cash.counted, sh.cash.difference, sh.closed.approvedBy.managerId], [10319, 9819, -500, max.id]);
  assert.deepEqual(sh.closed.denominations.map((d) => [d.value, d.count]), [[5000, 1], [2000, 2], [500, 1], [200, 1], [100, 1], [10, 1], [5, 1], [2, 2]]);

  // The Z's figures are the documents' own.
  const z = await env.posd.api('POST', '/api/z-reports', { locationId: env.posd.locationId });
  const gross = sales.reduce((a, s) => a + s.total, 0);
  const refund = (await env.posd.api('GET', `/api/returns/${sales[0].returns[0]}`)).total;
  assert.equal(z.zNumber, 'Z-0001');
  assert.deepEqual([z.salesCount, z.refundsCount, z.gross, z.refunds, z.net], [3, 1, gross, refund, gross - refund]);
  assert.deepEqual(z.byMethod, [{ method: 'cash', sales: gross, refunds: refund, net: gross - refund }]);
  assert.equal(z.cash.shifts[0].cash.difference, -500);
  assert.deepEqual(z.byCashier.map((c) => [c.name, c.gross, c.refunds]), [['Anna', gross, 0], ['Max', 0, refund]], 'the sales are Anna’s, the refund Max’s');
});

test('10.2: a refund approved by a manager’s PIN; a till offline at closing time: its 5 sales reach posd after Z-0001 and are in Z-0002 as late arrivals', async (t) => {
  const env = await setup(t);
  await staff(env.posd);
  const page = await env.open();
  await signIn(page, env.tillToken);
  await page.waitForSelector('#view-cashier:not([hidden])');
  await typePIN(page, '4821');
  await page.waitForSelector('#view-sell:not([hidden])');
  const bread = await sell(page, BREAD, '5'); // reaches posd: in Z-0001
  // The shop wants a manager for refunds: the till asks for the PIN.
  await env.posd.api('PATCH', '/api/settings', { refundsNeedApproval: true });
  await page.click('#nav-sales');
  await page.click(`#sales-list li[data-number="${bread}"] .refund-btn`);
  await page.waitForSelector('#refund-approval:not([hidden])');
  await page.fill('#refund-lines input', '1');
  await page.click('#refund-submit');
  await page.waitForSelector('#refund-error:not([hidden])');
  assert.match(await page.textContent('#refund-error'), /A manager must approve refunds/);
  await page.fill('#refund-pin', '4821');
  await page.click('#refund-submit');
  await waitFor(async () => /not a manager/.test(await page.textContent('#refund-error')), { what: 'a cashier’s PIN refused' });
  await page.fill('#refund-pin', '1357');
  await page.click('#refund-submit');
  await page.waitForSelector('#refund-done:not([hidden])');
  await page.click('#nav-sell');
  env.proxy.block();
  await page.waitForSelector('#conn[data-status=unreachable]', { timeout: 30000 });
  for (let i = 0; i < 5; i++) await sell(page, APPLE, '2');
  await waitFor(async () => (await queued(page)) === 5, { what: '5 sales queued' });
  const z1 = await env.posd.api('POST', '/api/z-reports', { locationId: env.posd.locationId });
  assert.equal(z1.zNumber, 'Z-0001');
  assert.equal(z1.salesCount, 1, 'Z-0001 has what reached posd: one sale');
  assert.equal(z1.refundsCount, 1, 'and its refund');
  assert.deepEqual(z1.lateArrivals, []);
  env.proxy.unblock();
  await waitFor(async () => (await queued(page)) === 0, { timeout: 60000, what: 'the queue drained' });
  const z2 = await env.posd.api('POST', '/api/z-reports', { locationId: env.posd.locationId });
  assert.equal(z2.zNumber, 'Z-0002', 'consecutive');
  assert.equal(z2.previous.zNumber, 'Z-0001');
  assert.equal(z2.salesCount, 5);
  assert.equal(z2.lateArrivals.length, 5, 'the five sales are late arrivals');
  for (const l of z2.lateArrivals) {
    assert.ok(Date.parse(l.soldAt) < Date.parse(z1.createdAt), 'sold before Z-0001');
    assert.ok(Date.parse(l.createdAt) > Date.parse(z1.createdAt), 'received after it');
    assert.equal(l.total, 150);
  }
  assert.equal(z2.grandTotal.net, 320 - 320 + 5 * 150, 'the grand total carries on');
  const sales = await env.posd.sales();
  assert.equal(sales.length, 6, 'every sale once');
  const ret = await env.posd.api('GET', `/api/returns/${sales.find((s) => s.invoiceNumber === bread).returns[0]}`);
  assert.equal(ret.approvedBy.name, 'Max', 'the refund carries its approval');
});
