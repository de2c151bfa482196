// export.js — the Export screen: the accountant's export of a range of days
// (GET /api/export?from&to, one zip: documents, lines, payments, taxes,
// stock lines, Z reports, cash movements and manifest.json), the same files
// posd export writes; and what the export holds (its manifest): each
// series' numbers and head hash, the totals by tax rate. The words tell the
// owner to keep the manifest off this PC: it is the anchor Integrity checks.
import { S, today, money } from '../state.js';
import { PosdError, explain } from '../api.js';
import { el, fill, field, table, busy, message, toast } from '../views.js';
import { seriesName, shownNumber, learnLocations } from './integrity.js';

/** monthOf returns the first and last day of the month of ymd, moved by delta months. */
export function monthOf(ymd, delta = 0) {
  const [y, m] = ymd.split('-').map(Number);
  const first = new Date(Date.UTC(y, m - 1 + delta, 1));
  const last = new Date(Date.UTC(y, m + delta, 0));
  const f = (d) => d.toISOString().slice(0, 10);
  return [f(first), f(last)];
}

/** fetchExport reads a part of the export with the token: a Blob, or a PosdError. */
async function fetchExport(path) {
  let r;
  try {
    r = await fetch(path, { headers: { Authorization: `Bearer ${S.token}` }, cache: 'no-store' });
  } catch {
    throw new PosdError(0, 'unreachable', 'posd did not answer');
  }
  if (!r.ok) {
    let e = {};
    try {
      e = (await r.json()).error || {};
    } catch {
      /* not the contract's shape */
    }
    throw new PosdError(r.status, e.code || `http_${r.status}`, e.message || `HTTP ${r.status}`, e.field);
  }
  return r.blob();
}

function save(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
    a.remove();
  }, 1000);
}

export async function render({ root, refreshShared }) {
  const [lf, lt] = monthOf(today(), -1);
  const from = el('input', { type: 'date', id: 'export-from', value: lf, required: true });
  const to = el('input', { type: 'date', id: 'export-to', value: lt, required: true });
  const zip = el('button', { type: 'submit', class: 'primary', id: 'export-zip' }, 'Download the export');
  const out = el('div', { id: 'export-result' });
  const range = (delta) => {
    [from.value, to.value] = monthOf(today(), delta);
  };
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Export')),
    el(
      'p',
      { class: 'hint' },
      'The accountant’s export: every sale, refund, purchase receipt and transfer of the days you choose (days as the shop counts them), in CSV files a spreadsheet opens, ' +
        'with a manifest that records each file’s fingerprint and where each series of documents stood. The same days exported again give the same files.',
    ),
    el(
      'form',
      { class: 'row panel', id: 'export-form', onsubmit: (e) => (e.preventDefault(), busy(zip, 'Preparing…', download)) },
      field('From', from),
      field('To', to),
      el('button', { type: 'button', id: 'export-last-month', onclick: () => range(-1) }, 'Last month'),
      el('button', { type: 'button', id: 'export-this-month', onclick: () => range(0) }, 'This month'),
      zip,
    ),
    out,
  );

  async function download() {
    const q = `from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`;
    let blob;
    let manifest;
    try {
      blob = await fetchExport(`/api/export?${q}`);
      manifest = JSON.parse(await (await fetchExport(`/api/export/manifest.json?${q}`)).text());
    } catch (e) {
      fill(out, message('bad', explain(e)));
      return;
    }
    const name = `posd-export-${from.value}-${to.value}.zip`;
    save(name, blob);
    toast(`Downloaded ${name}: ${manifest.files.find((f) => f.name === 'documents.csv').rows} documents.`);
    await learnLocations(manifest.series.map((s) => s.series), refreshShared);
    const count = manifest.series.reduce((n, s) => n + s.count, 0);
    fill(
      out,
      message(
        'ok',
        `${name} holds ${count} numbered document${count === 1 ? '' : 's'} of ${manifest.from} to ${manifest.to}. Send it to your accountant, and keep a copy off this PC (a USB stick): ` +
          'its manifest.json proves later, on the Integrity screen, that these documents were not changed.',
      ),
      el(
        'section',
        { class: 'panel' },
        el('h2', {}, 'Documents'),
        table({
          columns: [
            { title: 'Series', get: (s) => seriesName(s.series) },
            { title: 'From', get: (s) => shownNumber(s.series, s.first) },
            { title: 'To', get: (s) => shownNumber(s.series, s.last) },
            { title: 'Count', num: true, get: (s) => s.count },
            { title: 'Head hash', get: (s) => el('code', { class: 'hash', title: s.headHash }, `${s.headHash.slice(0, 12)}…`) },
          ],
          rows: manifest.series,
          empty: 'No numbered document in these days.',
          rowAttrs: (s) => ({ data: { series: s.series } }),
        }).el,
      ),
      el(
        'section',
        { class: 'panel' },
        el('h2', {}, 'Sales and refunds by tax rate'),
        table({
          columns: [
            { title: 'Tax rate', get: (t) => `${t.taxRate} %` },
            { title: 'Gross', num: true, get: (t) => money(minor(t.gross)) },
            { title: 'Tax', num: true, get: (t) => money(minor(t.tax)) },
            { title: 'Net', num: true, get: (t) => money(minor(t.net)) },
          ],
          rows: manifest.totals,
          empty: 'No sale or refund in these days.',
          rowAttrs: (t) => ({ data: { rate: t.taxRate } }),
        }).el,
      ),
      el(
        'section',
        { class: 'panel' },
        el('h2', {}, 'Files'),
        table({
          columns: [
            { title: 'File', get: (f) => f.name },
            { title: 'Rows', num: true, get: (f) => f.rows },
            { title: 'SHA-256', get: (f) => el('code', { class: 'hash', title: f.sha256 }, `${f.sha256.slice(0, 12)}…`) },
          ],
          rows: manifest.files,
        }).el,
      ),
    );
  }
}

/**
 * minor reads a manifest's amount ("12.50", "-1.50": a dot and exactly the
 * currency's decimals) back into minor units, without a float.
 */
export function minor(text) {
  const neg = text.startsWith('-');
  const [whole, frac = ''] = text.replace(/^-/, '').split('.');
  const v = Number(whole + frac);
  return neg ? -v : v;
}
