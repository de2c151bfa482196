// Browser tests of closing the day in the back office (issue 10): the Staff
// screen (cashiers, managers, what needs a manager's PIN), a till's shift
// closed 5.00 short with a manager's PIN, the Day close screen (the X so
// far, closing the day, the Z on 72 mm and on A4, COPY on a reprint), the
// Shifts screen, and a till offline at closing time whose sales reach the
// next Z as late arrivals. Each test checks posd's own figures too.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ring } from '../browser/harness.mjs';
import { setupOffice, signInOffice, go, shot, toastText, toastOnLeaving, waitFor, closeDay } from './harness.mjs';

const APPLE = '4006381333931';
const BREAD = '5000112548167';
const CHEESE = '2000000000015';

async function products(env) {
  for (const p of [
    { sku: APPLE, name: 'Apple', price: 150, taxRate: 20 },
    { sku: BREAD, name: 'Bread', price: 320, taxRate: 10 },
    { sku: CHEESE, name: 'Cheese (per kg)', price: 1999, taxRate: 10 },
  ]) {
    await env.posd.api('POST', '/api/products', p);
  }
}

/** addCashier adds a cashier on the Staff screen, PIN typed twice. */
async function addCashier(office, name, role, pin) {
  await office.click('#add-cashier');
  await office.waitForSelector('#cashier-dialog');
  await office.fill('#cashier-dialog input:not([type=password])', name);
  await office.selectOption('#cashier-dialog select', role);
  await office.fill('#new-pin', pin);
  await office.fill('#new-pin2', pin);
  await office.click('#cashier-dialog .actions button.primary');
  await toastText(office, new RegExp(`Added ${name}`));
  await office.waitForSelector(`tr[data-cashier="${name}"]`);
}

/** pair adds a till on the Tills screen and opens a till page with its code (the QR code's address). */
async function pair(env, office, name) {
  await go(office, 'tills', '#add-till');
  await office.click('#add-till');
  await office.fill('#till-name', name);
  await office.click('dialog[open] .actions button.primary');
  await office.waitForSelector('#pair-code');
  const code = (await office.textContent('#pair-code')).trim();
  const till = await env.till();
  await till.goto(`${env.proxy.url}/till/#pair=${code}`);
  await office.waitForFunction(() => /is paired/.test(document.getElementById('pair-state').textContent), null, { timeout: 30000 });
  await office.click('dialog[open] .close');
  return till;
}

async function typePIN(till, pin) {
  await till.waitForSelector('#view-cashier:not([hidden])', { timeout: 30000 });
  for (const d of pin) await till.click(`#keypad button[data-key="${d}"]`);
  await till.click('#pin-btn');
  await till.waitForSelector('#view-sell:not([hidden])');
}

async function sell(till, sku, cash) {
  await ring(till, sku);
  await till.fill('#cash-given', cash);
  await till.click('#complete');
  await till.waitForSelector('#view-receipt:not([hidden])', { timeout: 60000 });
  const number = await till.getAttribute('#receipt-number', 'data-number');
  await till.click('#new-sale');
  await till.waitForSelector('#view-sell:not([hidden])');
  return number;
}

/** zText reads the Z (or X) shown in the open dialog: the text of each labelled row. */
async function zRows(office) {
  return office.$$eval('dialog[open] .zreport tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));
}

/**
 * onReceipt runs fn(arg) in the page with the report in #print-area laid
 * out as the 72 mm receipt printer prints it: print media, on a page as
 * wide as the paper. The office's screen comes back afterwards.
 */
async function onReceipt(office, fn, arg) {
  const vp = office.viewportSize();
  await office.setViewportSize({ width: Math.round((72 / 25.4) * 96), height: vp.height });
  await office.emulateMedia({ media: 'print' });
  try {
    return await office.evaluate(fn, arg);
  } finally {
    await office.emulateMedia({ media: 'screen' });
    await office.setViewportSize(vp);
  }
}

/**
 * printedLines returns, for every cell of the printed 72 mm report's
 * sections whose titles start with one of titles, [section, column, text,
 * lines]: the lines its text was laid out on. The lines are counted from
 * the text's own boxes (a Range's client rects, one per line fragment), so
 * a label drawn beside the value does not count.
 */
function printedLines(office, titles) {
  return onReceipt(
    office,
    (titles) => {
      const lines = (cell) => {
        const rects = [];
        const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
          if (!n.data.trim()) continue;
          const r = document.createRange();
          r.selectNodeContents(n);
          rects.push(...[...r.getClientRects()].filter((x) => x.width > 0 && x.height > 0));
        }
        rects.sort((a, b) => a.top - b.top);
        let count = 0;
        let bottom = -Infinity;
        for (const x of rects) {
          if (x.top >= bottom - 1) count++; // below the line before: a new line
          bottom = Math.max(bottom, x.bottom);
        }
        return count;
      };
      const out = [];
      for (const sec of document.querySelectorAll('#print-area .zreport .zsec')) {
        const title = sec.querySelector('h3').textContent;
        if (!titles.some((t) => title.startsWith(t))) continue;
        const heads = [...sec.querySelectorAll('thead th')].map((th) => th.textContent.trim());
        for (const tr of sec.querySelectorAll('tbody tr')) [...tr.children].forEach((td, i) => td.textContent.trim() && out.push([title, heads[i], td.textContent.trim(), lines(td)]));
      }
      return out;
    },
    titles,
  );
}

/** afterPrint tells the page its print is over, as the browser does once the print dialog closes. */
async function afterPrint(office) {
  await office.evaluate(() => window.dispatchEvent(new Event('afterprint')));
}

async function closeZDialog(office) {
  await office.keyboard.press('Escape'); // a dialog taller than the screen may have scrolled its ✕ away
  await office.waitForSelector('#z-dialog', { state: 'detached' });
}

test('10.3: a day’s close in the office: staff and their PINs, a shift 5.00 short approved by a manager, the Z on 72 mm and A4, and a reprint marked COPY', async (t) => {
  const env = await setupOffice(t);
  await products(env);
  const office = await env.office();
  await signInOffice(office, env);

  // Staff: a cashier and a manager; a difference over 2.00 needs a manager.
  await go(office, 'staff', '#add-cashier');
  await addCashier(office, 'Anna', 'cashier', '4821');
  await addCashier(office, 'Max', 'manager', '1357');
  await office.fill('#cash-limit', '2.00');
  await office.click('#save-settings');
  await toastText(office, /a cash difference over €2\.00 needs one/);
  await shot(office, 'staff', { readme: true });
  const cashiers = (await env.posd.api('GET', '/api/cashiers')).cashiers;
  assert.deepEqual(cashiers.map((c) => [c.name, c.role]).sort(), [['Anna', 'cashier'], ['Max', 'manager']]);
  assert.equal(JSON.stringify(cashiers).includes('4821'), false, 'no PIN comes back');
  // A limit that is not an amount is refused in a toast, which is about
  // the Staff screen: it goes when the owner opens Tills.
  const refused = await toastOnLeaving(
    office,
    async () => {
      await office.fill('#cash-limit', 'two euros');
      await office.click('#save-settings');
    },
    /^Type the limit like 2\.00/,
    () => office.click('#nav a[data-screen="tills"]'),
  );
  assert.equal(await office.getAttribute('#toast', 'data-kind'), 'bad');
  assert.ok(refused.upMs < 5000, `the owner left while the toast was up (${Math.round(refused.upMs)} ms): long enough before its 8 s timer to tell the two apart`);
  assert.ok(refused.goneMs < 1500, `“${refused.text}” went when the owner opened Tills, not ${Math.round(refused.goneMs)} ms later`);
  assert.equal((await env.posd.api('GET', '/api/settings')).cashDifferenceLimit, 200, 'the refused limit changed nothing');

  // The till: Anna's PIN, a shift with 100.00, three cash sales, a cash
  // refund, 20.00 out for milk.
  const till = await pair(env, office, 'Counter');
  await typePIN(till, '4821');
  await till.click('#nav-shift');
  await till.fill('#shift-float', '100');
  await till.click('#shift-open');
  await till.waitForSelector('#shift-live:not([hidden])');
  await till.click('#nav-sell');
  const s1 = await sell(till, APPLE, '2'); // 1.50, change 0.50
  await sell(till, BREAD, '5'); // 3.20, change 1.80
  await sell(till, CHEESE, '20'); // 19.99, change 0.01
  await till.click('#nav-sales');
  await till.click(`#sales-list li[data-number="${s1}"] .refund-btn`);
  await till.fill('#refund-lines input', '1');
  await till.click('#refund-submit');
  await till.waitForSelector('#refund-done:not([hidden])');
  await till.click('#nav-shift');
  await till.waitForSelector('#shift-live:not([hidden])');
  await till.fill('#move-amount', '20');
  await till.fill('#move-reason', 'milk');
  await till.click('#move-submit');
  await till.waitForSelector('#shift-done:not([hidden])');
  // 98.19 counted: 5.00 short of 103.19; Max approves.
  for (const [v, n] of [[5000, 1], [2000, 2], [500, 1], [200, 1], [100, 1], [10, 1], [5, 1], [2, 2]]) await till.fill(`#count-lines input[data-value="${v}"]`, String(n));
  await till.click('#shift-close');
  await till.waitForSelector('#approval-part:not([hidden])');
  await till.fill('#manager-pin', '1357');
  await till.click('#shift-close');
  await till.waitForSelector('#shift-none:not([hidden])');
  assert.match(await till.textContent('#shift-done'), /counted €98\.19: €5\.00 short, approved by Max/);

  // The office's Shifts screen: the shift, its difference and who approved.
  await go(office, 'shifts', 'tr[data-status=closed]');
  const shiftRow = await office.textContent('tr[data-status=closed]');
  assert.match(shiftRow, /€100\.00/);
  assert.match(shiftRow, /€103\.19/);
  assert.match(shiftRow, /-€5\.00/);
  assert.match(shiftRow, /approved by Max/);
  await shot(office, 'shifts', { readme: true });

  // Day close: the X so far, then the Z. (The till has sent everything,
  // and says so in its next status report.)
  await waitFor(async () => (await env.posd.api('GET', '/api/tills')).tills.every((x) => x.queued === 0), { timeout: 30000, interval: 500, what: 'the till to report an empty queue' });
  await go(office, 'dayclose', '#close-day');
  await office.waitForFunction(() => /23\.19/.test(document.querySelector('[data-figure=net] .value')?.textContent));
  await shot(office, 'dayclose', { readme: true });
  const { z, confirmText } = await closeDay(office);
  assert.equal(z, 'Z-0001');
  assert.match(confirmText, /3 sales, 1 refunds, net €23\.19/);
  assert.equal(await office.getAttribute('#z-dialog .zreport', 'data-copy'), 'false', 'the Z as made is the original');
  assert.equal(await office.isVisible('#z-dialog .copy-mark'), false);
  // Its figures are the documents' own.
  const sales = await env.posd.sales();
  const gross = sales.reduce((a, s) => a + s.total, 0);
  const zdoc = (await env.posd.api('GET', `/api/z-reports?locationId=${sales[0].locationId}`)).zReports[0];
  assert.deepEqual([zdoc.zNumber, zdoc.salesCount, zdoc.gross, zdoc.refunds, zdoc.net], ['Z-0001', 3, gross, 150, gross - 150]);
  const rows = await zRows(office);
  const row = (label) => (rows.find((r) => r[0].startsWith(label)) || [])[1];
  assert.equal(row('Sales (3)'), '€24.69');
  assert.equal(row('Refunds (1)'), '-€1.50');
  assert.equal(row('Net'), '€23.19');
  assert.equal(row('Expected'), '€103.19');
  assert.equal(row('Counted'), '€98.19');
  assert.equal(row('Difference'), '-€5.00');
  assert.equal(row('Approved by'), 'Max');
  assert.equal(row('Paid out: milk'), '-€20.00');
  assert.ok(rows.some((r) => r[0] === 'Anna' && r[3] === '€23.19'), 'by cashier');
  await shot(office, 'z-report', { readme: true });

  // Printed on the 72 mm receipt printer, then on A4: only the report, at
  // the paper's width.
  await office.evaluate(() => {
    window.print = () => {
      window.__prints = (window.__prints || 0) + 1;
    };
  });
  await office.click('#z-dialog .actions button:has-text("72 mm")');
  await office.emulateMedia({ media: 'print' });
  const width72 = await office.evaluate(() => document.querySelector('#print-area .zreport').getBoundingClientRect().width);
  assert.ok(Math.abs(width72 - (72 / 25.4) * 96) < 2, `72 mm wide in print: ${width72}px`);
  assert.equal(await office.isVisible('#screen'), false, 'only the report prints');
  await shot(office, 'z-print-72mm', { readme: true });
  await office.emulateMedia({ media: 'screen' });
  // On the receipt every document number and every amount is on one line
  // of its own: none is broken between lines (a hash may be, in its block).
  const docs = await printedLines(office, ['Documents']);
  assert.ok(docs.length >= 3, `the Documents table has its series, first and last: ${JSON.stringify(docs)}`);
  assert.ok(docs.some(([, , text]) => /^INV-\d{6}-0001$/.test(text)), `the first invoice is in it: ${JSON.stringify(docs)}`);
  assert.deepEqual(docs.filter(([, , , n]) => n !== 1), [], 'each document number on one line on 72 mm paper');
  const names = ['Method', 'Rate', 'Till', 'Cashier', 'Hash']; // words, and the hashes: they may wrap
  const figures = (await printedLines(office, ['By payment method', 'Tax by rate', 'By till', 'By cashier', 'Hash chain heads'])).filter(([, col]) => !names.includes(col));
  assert.ok(figures.length >= 12, `the figures: ${JSON.stringify(figures)}`);
  assert.deepEqual(figures.filter(([, , , n]) => n !== 1), [], 'each amount and number on one line on 72 mm paper');
  // A hash head is a block of its own as wide as the paper, not a squeezed
  // column, and nothing is wider than the paper.
  const paper = await onReceipt(office, () => {
    const z = document.querySelector('#print-area .zreport');
    const w = z.getBoundingClientRect().width;
    return { overflow: z.scrollWidth - z.clientWidth, hashes: [...z.querySelectorAll('code.hash')].filter((c) => c.textContent.trim()).map((c) => c.getBoundingClientRect().width / w) };
  });
  assert.ok(paper.hashes.length >= 3, 'the hash heads');
  assert.deepEqual(paper.hashes.filter((f) => f < 0.9), [], 'each hash as wide as the paper');
  assert.ok(paper.overflow <= 1, `nothing wider than the paper: ${paper.overflow}px over`);
  await afterPrint(office);
  await office.click('#z-dialog .actions button:has-text("A4")');
  assert.deepEqual(await office.evaluate(() => [...document.querySelectorAll('link[data-print]')].map((l) => [l.dataset.print, l.disabled])), [['72', true], ['a4', false]], 'the A4 sheet for this print');
  assert.equal(await office.evaluate(() => window.__prints), 2);
  await afterPrint(office);
  await closeZDialog(office);

  // A reprint from the list is a copy, on screen and on paper.
  await office.click('button[data-open="Z-0001"]');
  await office.waitForSelector('#z-dialog .zreport[data-copy=true]');
  assert.equal((await office.textContent('#z-dialog .copy-mark')).trim(), 'COPY');
  await office.click('#z-dialog .actions button:has-text("72 mm")');
  await office.emulateMedia({ media: 'print' });
  assert.equal(await office.isVisible('#print-area .copy-mark'), true, 'COPY on the paper');
  await shot(office, 'z-copy', { readme: true });
  await office.emulateMedia({ media: 'screen' });
  await afterPrint(office);
  await closeZDialog(office);

  // The next day closes as Z-0002.
  await till.click('#nav-sell');
  await sell(till, BREAD, '5');
  const second = await closeDay(office);
  assert.equal(second.z, 'Z-0002');
  await closeZDialog(office);
  await office.waitForSelector('tr[data-z="Z-0002"]');

  // On A4, the page is A4 (last: printing to PDF leaves the page's
  // viewport units at the paper's size).
  await office.click('button[data-open="Z-0002"]');
  await office.click('#z-dialog .actions button:has-text("A4")');
  const pdf = (await office.pdf({ preferCSSPageSize: true })).toString('latin1');
  assert.match(pdf, /\/MediaBox \[0 0 59[45]\.\d+ 84[12]\.\d+\]/, 'an A4 page');
  assert.deepEqual(env.errors, []);
});

test('10.4: a till offline at closing time: the Z says it has not reported; its 5 sales arrive after and are in the next Z as late arrivals', async (t) => {
  const env = await setupOffice(t);
  await products(env);
  const office = await env.office();
  await signInOffice(office, env);
  const till = await pair(env, office, 'Counter');
  await till.waitForSelector('#view-sell:not([hidden])');
  await sell(till, BREAD, '5'); // reaches posd: Z-0001's
  // Until its first report a till is "never reported", and not online
  // either: wait for posd to have heard from it before it goes. And with
  // its queue empty: a report sent while the sale was still queued, with
  // the one after it cut off by the block, leaves posd saying "1 write
  // still queued" rather than offline.
  await waitFor(async () => {
    const [x] = (await env.posd.api('GET', '/api/tills')).tills;
    return !!x.lastSeenAt && x.queued === 0;
  }, { timeout: 60000, interval: 500, what: "the till's report of an empty queue" });
  env.proxy.block();
  await till.waitForSelector('#conn[data-status=unreachable]', { timeout: 30000 });
  for (let i = 0; i < 5; i++) await sell(till, APPLE, '2');
  assert.equal(Number(await till.textContent('#queued-count')), 5);
  // posd has not heard from the till for more than 30 s: it may hold sales.
  await waitFor(async () => !(await env.posd.api('GET', '/api/tills')).tills[0].online, { timeout: 60000, interval: 1000, what: 'the till to be offline' });
  await go(office, 'dayclose', '#close-day');
  const first = await closeDay(office);
  assert.equal(first.z, 'Z-0001');
  assert.match(first.confirmText, /Counter: offline/, 'the close warns about the till');
  const z1 = (await env.posd.api('GET', `/api/z-reports?locationId=${(await env.posd.sales())[0].locationId}`)).zReports[0];
  assert.equal(z1.salesCount, 1);
  assert.deepEqual(z1.tillsNotReported.map((x) => x.name), ['Counter']);
  assert.match(await office.textContent('#z-dialog .zreport'), /Tills not reported.*Counter/s);
  await closeZDialog(office);

  // The till is back: its queue goes to posd, into the open day.
  env.proxy.unblock();
  await waitFor(async () => Number(await till.textContent('#queued-count')) === 0, { timeout: 60000, what: 'the queue to drain' });
  await office.waitForFunction(() => /5/.test(document.querySelector('[data-figure=late] .value')?.textContent), null, { timeout: 40000 });
  const second = await closeDay(office);
  assert.equal(second.z, 'Z-0002');
  const late = await office.$$eval('#z-dialog .zreport .zsec', (secs) => {
    const s = secs.find((x) => /^Late arrivals/.test(x.querySelector('h3').textContent));
    return { title: s.querySelector('h3').textContent, rows: [...s.querySelectorAll('tbody tr')].map((tr) => tr.children[0].textContent) };
  });
  assert.equal(late.title, 'Late arrivals (5)');
  await office.evaluate(() => [...document.querySelectorAll('#z-dialog .zsec h3')].find((h) => /^Late arrivals/.test(h.textContent)).scrollIntoView({ block: 'start' }));
  await shot(office, 'z-late-arrivals', { readme: true });
  const z2 = (await env.posd.api('GET', `/api/z-reports/${(await env.posd.api('GET', `/api/z-reports?locationId=${z1.locationId}`)).zReports[0].id}`));
  assert.equal(z2.zNumber, 'Z-0002');
  assert.deepEqual(late.rows, z2.lateArrivals.map((l) => l.number), 'the five, by number');
  // On the receipt, each late arrival's number and amount on one line.
  await office.evaluate(() => {
    window.print = () => {};
  });
  await office.click('#z-dialog .actions button:has-text("72 mm")');
  const printedLate = (await printedLines(office, ['Late arrivals'])).filter(([, col]) => col === 'Document' || col === 'Amount');
  await afterPrint(office);
  assert.equal(printedLate.length, 10, `the five numbers and amounts: ${JSON.stringify(printedLate)}`);
  assert.deepEqual(printedLate.filter(([, , , n]) => n !== 1), [], 'each late arrival number and amount on one line on 72 mm paper');
  for (const l of z2.lateArrivals) assert.ok(Date.parse(l.soldAt) < Date.parse(z1.createdAt) && Date.parse(l.createdAt) > Date.parse(z1.createdAt));
  assert.equal((await env.posd.sales()).length, 6, 'every sale once');
  assert.deepEqual(env.errors, []);
});
