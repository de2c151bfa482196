// Browser test of the office's Integrity screen once days have been closed
// (issues 10 and 11): every chain, the Z reports' own among them, shown as
// GET /api/integrity recomputes it, with the series heads each Z recorded
// (the anchors posd checks); then the bbolt file altered while posd is
// stopped, twice — a sale of a closed day changed, then the chain hashed
// again from it — and the screen naming, in words an owner can act on, the
// sale and the Z reports whose heads no longer match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { repo } from '../browser/harness.mjs';
import { setupOffice, signInOffice, go, shot, toastOnLeaving, closeDay } from './harness.mjs';

let tamperBin;
/** tamper runs the test-only tamper command (cmd/internal/tamper) on posd's stopped data dir. */
function tamper(dataDir, args) {
  if (!tamperBin) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'posd-tamper-'));
    tamperBin = path.join(dir, 'tamper');
    execFileSync('go', ['build', '-o', tamperBin, './cmd/internal/tamper'], { cwd: repo, stdio: 'inherit' });
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return JSON.parse(execFileSync(tamperBin, ['--data-dir', dataDir, ...args]));
}

/** closeAndDismiss closes the day (closeDay), then shuts the Z's dialog and waits for its row in the list. */
async function closeAndDismiss(office) {
  const closed = await closeDay(office);
  await office.keyboard.press('Escape');
  await office.waitForSelector('#z-dialog', { state: 'detached' });
  await office.waitForSelector(`tr[data-z="${closed.z}"]`);
  return closed;
}

/** check presses Check again and waits until the screen shows a result that satisfies ready(text of the screen). */
async function check(office, ready) {
  await office.click('#integrity-check');
  try {
    await office.waitForFunction((src) => {
      const b = document.getElementById('integrity-check');
      const s = document.getElementById('screen');
      return b && !b.dataset.busy && document.querySelector('#integrity-status .msg') && new RegExp(src, 's').test(s.textContent);
    }, ready.source, { timeout: 30000 });
  } catch (e) {
    const shown = await office.textContent('#integrity-status').catch(() => '(no screen)');
    const found = await office.textContent('#integrity-findings').catch(() => '');
    throw new Error(`the Integrity screen did not show ${ready} within 30 s; it says: ${shown} ${found}`, { cause: e });
  }
}

/** screenRows reads a table of the screen: per row its data attributes and the text of its cells. */
function screenRows(office, sel) {
  return office.$$eval(`${sel} tbody tr`, (trs) => trs.map((tr) => ({ data: { ...tr.dataset }, cells: [...tr.children].map((td) => td.textContent.trim()), titles: [...tr.querySelectorAll('code.hash')].map((c) => c.title) })));
}

const short = (h) => `${h.slice(0, 12)}…`;
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('Integrity after two Z reports: every chain with the Z series and the heads each Z recorded; a closed day’s sale changed in the file, then its chain hashed again, each named', async (t) => {
  const started = Date.now();
  const env = await setupOffice(t);
  const loc = (await env.posd.api('GET', '/api/locations')).locations[0];
  const apple = await env.posd.api('POST', '/api/products', { sku: '4006381333931', name: 'Apple', price: 150, taxRate: 20 });
  const bread = await env.posd.api('POST', '/api/products', { sku: '5000112548167', name: 'Bread', price: 320, taxRate: 10 });
  const sell = (items, method, amount) => env.posd.api('POST', '/api/sales', { locationId: loc.id, items, payments: [{ method, amount }] });
  // Day 1: three sales and a refund of the first.
  const s1 = await sell([{ productId: apple.id, quantity: 2 }], 'cash', 300);
  const s2 = await sell([{ productId: bread.id, quantity: 1 }, { productId: apple.id, quantity: 1 }], 'card', 470);
  await sell([{ productId: bread.id, quantity: 2 }], 'cash', 640);
  const ret = await env.posd.api('POST', `/api/sales/${s1.id}/refund`, { items: [{ productId: apple.id, quantity: 1 }] });
  const office = await env.office();
  await signInOffice(office, env);
  await go(office, 'dayclose', '#close-day');
  await office.waitForFunction(() => /3/.test(document.querySelector('[data-figure=sales] .value')?.textContent));
  const z1 = await closeAndDismiss(office);
  assert.equal(z1.z, 'Z-0001');
  assert.match(z1.confirmText, /3 sales, 1 refunds/);
  // Day 2: one sale. The close's confirmation is about the Day close
  // screen: it goes when the owner opens another one.
  await sell([{ productId: apple.id, quantity: 1 }], 'card', 150);
  let z2;
  const closed = await toastOnLeaving(office, async () => (z2 = await closeAndDismiss(office)), /^Closed the day: Z-0002, net/, () => office.click('#nav a[data-screen="integrity"]'));
  assert.ok(closed.upMs < 5000, `the owner left while the toast was up (${Math.round(closed.upMs)} ms): long enough before its 8 s timer to tell the two apart`);
  assert.ok(closed.goneMs < 1500, `“${closed.text}” went when the owner opened Integrity, not ${Math.round(closed.goneMs)} ms later`);
  assert.equal(z2.z, 'Z-0002');
  assert.match(z2.confirmText, /1 sales, 0 refunds/);
  const zs = (await env.posd.api('GET', `/api/z-reports?locationId=${loc.id}`)).zReports;
  assert.deepEqual(zs.map((z) => z.zNumber), ['Z-0002', 'Z-0001']);

  // Integrity: every chain as posd recomputes it, the Z series among them.
  const api = await env.posd.api('GET', '/api/integrity');
  assert.equal(api.ok, true, `the untouched shop checks out: ${JSON.stringify(api.findings)}`);
  const zSeries = `Z-${loc.id}`;
  assert.deepEqual(api.series.map((s) => s.series.replace(/-\d{6}$/, '')), ['INV', 'RET', zSeries], 'sales, refunds and the Z series of Main');
  await go(office, 'integrity', '#integrity-status .msg');
  assert.match(await office.textContent('#integrity-status .msg.ok'), new RegExp(`^All ${api.documents} numbered documents in 3 series are unchanged and chained one to the next`));
  assert.equal(api.documents, 4 + 1 + 2);
  const rows = await screenRows(office, '#integrity-series');
  assert.deepEqual(rows.map((r) => r.data.series), api.series.map((s) => s.series), 'one row per chain, in posd’s order');
  for (const s of api.series) {
    const row = rows.find((r) => r.data.series === s.series);
    assert.equal(row.data.ok, 'true', `${s.series} holds`);
    assert.equal(row.cells[1], String(s.documents));
    assert.deepEqual(row.titles, [s.headHash], `${s.series}: the head hash posd gives, in full on hover`);
    assert.equal(row.cells[3], short(s.headHash));
    assert.equal(row.cells[4], 'OK');
  }
  const zRow = rows.find((r) => r.data.series === zSeries);
  assert.equal(zRow.cells[0], 'Z reports, Main', 'the Z series by its location’s name, no piece of its ID');
  assert.deepEqual([zRow.cells[1], zRow.cells[2]], ['2', 'Z-0002'], 'the Z series: two Zs, the last Z-0002 (not its key)');
  assert.equal(api.series.find((s) => s.series === zSeries).headHash, zs[0].hash, 'the Z series’ head is Z-0002’s hash');
  const inv = api.series[0].series;
  assert.equal(rows[0].cells[2], s2.invoiceNumber.replace(/\d+$/, '0004'));
  // The heads each Z recorded, each checked against the chain now.
  assert.equal(api.anchors.length, 4, 'each Z recorded the head of INV and RET');
  assert.match(await office.textContent('#integrity-anchors .msg.ok'), /^All 4 series heads the 2 Z reports recorded still match the chains/);
  const anchors = await screenRows(office, '#integrity-anchors');
  assert.deepEqual(
    anchors.map((r) => [r.data.source, r.data.anchor, r.data.ok, r.cells[4]]).sort(),
    api.anchors.map((a) => [a.source, `${a.series}-${String(a.number).padStart(4, '0')}`, 'true', 'Same']).sort(),
  );
  assert.ok(anchors.some((r) => r.data.source === 'Z-0001 of Main' && r.data.anchor === `${inv}-0003`), 'Z-0001 recorded the day’s last sale');
  assert.ok(anchors.some((r) => r.data.source === 'Z-0002 of Main' && r.data.anchor === `${inv}-0004`));
  assert.equal(await office.$$eval('#integrity-findings li', (l) => l.length), 0);
  await shot(office, 'integrity-z');
  // The month's export holds the Z series too, by the same words; a kept
  // manifest names the Zs it anchors as printed: Z-0001 of Main.
  await go(office, 'export', '#export-zip');
  await office.click('#export-this-month');
  await Promise.all([office.waitForEvent('download'), office.click('#export-zip')]);
  await office.waitForSelector(`#export-result tr[data-series="${zSeries}"]`);
  const exported = (await screenRows(office, '#export-result')).find((r) => r.data.series === zSeries);
  assert.deepEqual(exported.cells.slice(0, 4), ['Z reports, Main', 'Z-0001', 'Z-0002', '2'], 'the Z series in the export: its Zs by their own numbers');
  const manifest = await env.posd.api('GET', `/api/export/manifest.json?from=${await office.inputValue('#export-from')}&to=${await office.inputValue('#export-to')}`);
  await go(office, 'integrity', '#integrity-status .msg');
  await office.setInputFiles('#manifest-file', { name: 'manifest.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(manifest)) });
  await office.waitForSelector('#anchor-result .msg.ok');
  const kept = await screenRows(office, '#anchor-result');
  assert.deepEqual(kept.filter((r) => r.data.anchor.startsWith(`${zSeries}-`)).map((r) => [r.data.anchor, r.cells[0], r.cells[3]]), [[`${zSeries}-0001`, 'Z-0001 of Main', 'Same'], [`${zSeries}-0002`, 'Z-0002 of Main', 'Same']]);
  for (const r of kept) assert.ok(!r.cells[0].includes(loc.id), `${r.cells[0]}: no location ID`);

  // Someone with the file adds 1.00 to the second sale of day 1, which
  // Z-0001 counted, and leaves its hash as it was.
  await env.posd.stop();
  const edit = tamper(env.posd.dataDir, ['--sale', s2.invoiceNumber, '--add', '100']);
  assert.deepEqual([edit.oldTotal, edit.newTotal], [470, 570]);
  await env.posd.start();
  await check(office, new RegExp(`${esc(s2.invoiceNumber)}.*changed after it was made`));
  const api1 = await env.posd.api('GET', '/api/integrity');
  assert.equal(api1.ok, false);
  assert.equal(api1.findings.length, 1, JSON.stringify(api1.findings));
  const status1 = await office.textContent('#integrity-status .msg.bad');
  assert.match(status1, /^posd found 1 problem in the chains/);
  assert.match(status1, /keep the backups, the exports and the printed Z reports as they are/);
  const invRow = (await screenRows(office, '#integrity-series')).find((r) => r.data.series === inv);
  assert.equal(invRow.data.ok, 'false');
  assert.equal(invRow.cells[4], `Breaks at ${s2.invoiceNumber}`);
  assert.equal((await screenRows(office, '#integrity-series')).find((r) => r.data.series === zSeries).data.ok, 'true', 'the Zs themselves are unchanged');
  const f1 = await office.$$eval('#integrity-findings li', (l) => l.map((x) => ({ number: x.dataset.number, text: x.textContent })));
  assert.deepEqual(f1.map((f) => f.number), [s2.invoiceNumber], 'the finding names the sale');
  assert.ok(f1[0].text.startsWith(api1.findings[0]), `posd’s own words: ${f1[0].text}`);
  assert.match(f1[0].text, /its values no longer match its hash .*: it was changed after it was made/);
  assert.match(f1[0].text, /Counted in Z-0001 of Main \(closed .+\): compare it with the printed Z-0001\./, 'which Z counted it, to compare with the paper');
  assert.equal(await office.getAttribute(`#integrity-findings li[data-number="${s2.invoiceNumber}"] a`, 'href'), `#/journal?series=INV&number=${s2.invoiceNumber}`);
  assert.match(await office.textContent('#integrity-anchors .msg.ok'), /^All 4 series heads/, 'the heads still match: only the sale’s own hash shows the change');
  await shot(office, 'integrity-z-changed');

  // The same hand hashes the chain again from that sale to the head: every
  // link holds now, but the heads Z-0001 and Z-0002 recorded do not.
  await env.posd.stop();
  const rewrite = tamper(env.posd.dataDir, ['--sale', s2.invoiceNumber, '--add', '0', '--rehash']);
  assert.deepEqual(rewrite.rehashed, [2, 3, 4].map((n) => `${inv}-000${n}`));
  await env.posd.start();
  await check(office, /Z-0001 of Main recorded hash/);
  const api2 = await env.posd.api('GET', '/api/integrity');
  assert.equal(api2.ok, false);
  const f2 = await office.$$eval('#integrity-findings li', (l) => l.map((x) => ({ number: x.dataset.number, text: x.textContent })));
  assert.deepEqual(f2.map((f) => f.number), api2.findings.map((f) => f.split(': ')[0]), 'every finding posd made, by number');
  for (const [i, f] of api2.findings.entries()) assert.ok(f2[i].text.startsWith(f), `posd’s words: ${f2[i].text}`);
  const z1Finding = f2.find((f) => f.number === `${inv}-0003`);
  const z2Finding = f2.find((f) => f.number === `${inv}-0004`);
  assert.ok(z1Finding && z2Finding, `the heads of both Zs: ${JSON.stringify(f2)}`);
  assert.match(z1Finding.text, /Z-0001 of Main recorded hash .*, but it carries .* now: the chain was rewritten after the anchor was taken/);
  assert.match(z1Finding.text, /Counted in Z-0001 of Main/);
  assert.match(z2Finding.text, /Z-0002 of Main recorded hash/);
  const anchors2 = await screenRows(office, '#integrity-anchors');
  const bad = anchors2.filter((r) => r.data.ok === 'false');
  assert.deepEqual(bad.map((r) => [r.data.source, r.data.anchor, r.cells[4]]).sort(), [['Z-0001 of Main', `${inv}-0003`, 'Changed'], ['Z-0002 of Main', `${inv}-0004`, 'Changed']]);
  for (const r of bad) {
    const a = api2.anchors.find((x) => x.source === r.data.source && `${x.series}-${String(x.number).padStart(4, '0')}` === r.data.anchor);
    assert.deepEqual(r.titles, [a.hash, a.found], 'the hash the Z recorded, and the one the document carries now');
  }
  assert.match(await office.textContent('#integrity-anchors .msg.bad'), /^2 of 4 series heads no longer match what Z-0001 of Main and Z-0002 of Main recorded: the chain was hashed again after those days were closed/);
  assert.match(await office.textContent('#integrity-status .msg.bad'), /The heads Z-0001 of Main and Z-0002 of Main recorded no longer match/);
  assert.equal((await screenRows(office, '#integrity-series')).find((r) => r.data.series === inv).cells[4], `Breaks at ${inv}-0003`);
  assert.equal(ret.saleNumber, s1.invoiceNumber, 'the refund was of a sale left alone');
  await shot(office, 'integrity-z-rewritten');
  assert.deepEqual(env.errors, []);
  t.diagnostic(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('Integrity with two locations of the same name: each Z series named by its location and its place among them, never a piece of an ID', async (t) => {
  const env = await setupOffice(t);
  const main = (await env.posd.api('GET', '/api/locations')).locations[0];
  assert.equal(main.name, 'Main');
  const office = await env.office();
  await signInOffice(office, env);
  // A second shop called Main, added after the office was opened (the
  // office has not seen it yet), and Store room; a day closed at each.
  const main2 = await env.posd.api('POST', '/api/locations', { name: 'Main' });
  const store = await env.posd.api('POST', '/api/locations', { name: 'Store room' });
  for (const l of [main, main2, store]) await env.posd.api('POST', '/api/z-reports', { locationId: l.id });
  await go(office, 'integrity', '#integrity-status .msg.ok');
  const rows = await screenRows(office, '#integrity-series');
  const label = (l) => (rows.find((r) => r.data.series === `Z-${l.id}`) || { cells: ['(no row)'] }).cells[0];
  assert.deepEqual([label(main), label(main2), label(store)], ['Z reports, Main (1st)', 'Z reports, Main (2nd)', 'Z reports, Store room'], 'in the order the locations were added');
  for (const r of rows) assert.doesNotMatch(r.cells[0], /…|[0-9a-f]{4}-|\(Z-/, `${r.cells[0]}: no piece of an ID`);
  // Every screen names them alike: the Day close screen's choice of location.
  await go(office, 'dayclose', '#close-location');
  assert.deepEqual((await office.$$eval('#close-location option', (os) => os.map((o) => o.textContent))).sort(), ['Main (1st)', 'Main (2nd)', 'Store room']);
  // A Z series of a location posd no longer lists says so in words.
  const gone = await office.evaluate(async () => (await import('/office/js/screens/integrity.js')).seriesName('Z-00000000-0000-7000-8000-000000000000'));
  assert.equal(gone, 'Z reports of a removed location');
  assert.deepEqual(env.errors, []);
});
