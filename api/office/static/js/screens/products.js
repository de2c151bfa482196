// products.js — the Products screen: find by name or SKU (the barcode a
// scanner reads), add, edit, archive; import from a CSV file with a dry run
// that lists every bad row, then the import itself in parts with progress;
// export in the same columns. The CSV is read and written by posd (Go's
// encoding/csv), never by this page: the page only sends the file's text.
import { S, money, rate, parseMoney, plainMoney } from '../state.js';
import { explain, newKey, Waiting } from '../api.js';
import { el, fill, table, dialog, field, busy, toast, message, download } from '../views.js';

/** PART is how many rows one import request applies: each part is its own intent. */
const PART = 2000;
/** MAX_FILE is the largest file the page sends: posd takes bodies up to 1 MiB. */
const MAX_FILE = 900 * 1024;

export async function render(ctx) {
  const { root, params } = ctx;
  let all = [];
  let showArchived = params.get('archived') === '1';
  const archivedBox = el('input', { type: 'checkbox', checked: showArchived });
  const t = table({
    columns: [
      { title: 'SKU / barcode', get: (p) => el('code', {}, p.sku) },
      { title: 'Name', get: (p) => p.name },
      { title: 'Price', num: true, get: (p) => money(p.price) },
      { title: 'Tax', num: true, get: (p) => rate(p.taxRate) },
      { title: 'Status', get: (p) => (p.archived ? el('span', { class: 'badge' }, 'Archived') : el('span', { class: 'badge ok' }, 'On sale')) },
      { title: '', get: (p) => el('button', { type: 'button', class: 'small', onclick: () => edit(p) }, 'Edit') },
    ],
    filter: (p, q) => p.name.toLowerCase().includes(q) || p.sku.toLowerCase().includes(q),
    placeholder: 'Search by name, SKU or barcode',
    empty: 'No products yet. Add one, or import a CSV file.',
    pageSize: 25,
    rowAttrs: (p) => ({ data: { sku: p.sku } }),
    toolbar: [el('label', { class: 'hint' }, archivedBox, ' Show archived')],
  });
  const count = el('span', { class: 'hint' });
  fill(
    root,
    el(
      'div',
      { class: 'head' },
      el('h1', {}, 'Products'),
      count,
      el('button', { type: 'button', class: 'primary', id: 'add-product', onclick: () => edit(null) }, 'Add product'),
      el('button', { type: 'button', id: 'import-csv', onclick: () => importDialog(reload) }, 'Import CSV…'),
      el('button', { type: 'button', id: 'export-csv', onclick: (e) => exportCSV(e.currentTarget) }, 'Export CSV'),
    ),
    t.el,
  );
  if (params.get('q')) {
    t.filterBox.value = params.get('q');
    t.filterBox.dispatchEvent(new Event('input'));
  }
  archivedBox.addEventListener('change', () => {
    showArchived = archivedBox.checked;
    reload();
  });

  async function reload() {
    const r = await S.api.get(`/api/products${showArchived ? '?includeArchived=true' : ''}`);
    all = r.products.sort((a, b) => a.name.localeCompare(b.name));
    count.textContent = `${all.length} product${all.length === 1 ? '' : 's'}`;
    t.update(all);
  }

  function edit(p) {
    const sku = el('input', { value: p ? p.sku : '', required: true, maxlength: 64, autocomplete: 'off' });
    const name = el('input', { value: p ? p.name : '', required: true, maxlength: 200 });
    const price = el('input', { value: p ? plainMoney(p.price) : '', inputmode: 'decimal', placeholder: '12.50' });
    const tax = el('input', { value: p ? String(p.taxRate) : '', inputmode: 'decimal', placeholder: '20' });
    const body = el(
      'form',
      {},
      field('SKU or barcode', sku, 'What the barcode scanner reads, or your own code. Unique in the shop.'),
      field('Name', name),
      el('div', { class: 'row' }, field(`Price (${S.money.currency}, tax included)`, price), field('Tax rate (%)', tax, 'e.g. 20 or 7.7; empty for none')),
    );
    const h = dialog(p ? `Edit ${p.name}` : 'Add a product', body);
    // One intent per form contents: the same form sent again (after posd
    // did not answer) reuses its key; a changed form is a new intent.
    let key = null;
    let sentBody = null;
    if (p) {
      h.button(p.archived ? 'Put back on sale' : 'Archive', async (b) => {
        await busy(b, p.archived ? 'Putting back…' : 'Archiving…', async () => {
          try {
            await S.api.write('PATCH', `/api/products/${p.id}`, { archived: !p.archived });
            toast(p.archived ? `${p.name} is on sale again.` : `Archived ${p.name}: tills no longer sell it; past sales keep it.`);
            h.close();
            reload();
          } catch (e) {
            h.say('bad', explain(e));
          }
        });
      });
    }
    h.button('Cancel', () => h.close());
    const save = h.button(p ? 'Save' : 'Add product', async (b) => {
      const cents = parseMoney(price.value);
      if (cents === null) return h.say('bad', `The price “${price.value}” is not an amount. Write it like 12.50 (a dot or comma before the cents, no currency sign).`);
      const taxText = tax.value.trim().replace(',', '.').replace(/\s*%$/, '');
      if (taxText && !/^\d{1,3}(\.\d{1,2})?$/.test(taxText)) return h.say('bad', `The tax rate “${tax.value}” is not a percentage. Write it like 20 or 7.7.`);
      const req = { sku: sku.value.trim(), name: name.value.trim(), price: cents };
      if (taxText) req.taxRate = Number(taxText);
      else if (p) req.taxRate = 0;
      await busy(b, 'Saving…', async () => {
        try {
          if (p) {
            const patch = {};
            for (const k of ['sku', 'name', 'price', 'taxRate']) if (req[k] !== undefined && req[k] !== p[k]) patch[k] = req[k];
            if (!Object.keys(patch).length) return h.close();
            await S.api.write('PATCH', `/api/products/${p.id}`, patch);
            toast(`Saved ${req.name}.`);
          } else {
            if (!key || sentBody !== JSON.stringify(req)) [key, sentBody] = [newKey(), JSON.stringify(req)];
            const out = await S.api.write('POST', '/api/products', req, key);
            toast(`Added ${out.name} at ${money(out.price)}.`);
          }
          h.close();
          reload();
        } catch (e) {
          h.say(e instanceof Waiting ? 'warn' : 'bad', explain(e));
          if (e instanceof Waiting) e.settled.then(() => (toast(`Saved ${req.name} now that posd answered.`), reload())).catch((x) => toast(explain(x), 'bad'));
        }
      });
    }, 'primary');
    body.addEventListener('submit', (e) => {
      e.preventDefault();
      save.click();
    });
    sku.focus();
  }

  async function exportCSV(b) {
    await busy(b, 'Exporting…', async () => {
      try {
        const csv = await S.api.text('/api/products/export');
        const n = csv.split('\n').length - 2;
        download(`products-${new Date().toISOString().slice(0, 10)}.csv`, csv, 'text/csv');
        toast(`Exported ${n} product${n === 1 ? '' : 's'} (the same columns the import reads).`);
      } catch (e) {
        toast(explain(e), 'bad');
      }
    });
  }

  await reload();
}

/** importDialog reads a CSV file, checks it with posd (a dry run), and imports it once it is clean. */
function importDialog(reload) {
  const file = el('input', { type: 'file', accept: '.csv,text/csv,text/plain', id: 'csv-file' });
  const out = el('div', { id: 'import-report' });
  const body = el(
    'div',
    {},
    el('p', {}, 'A CSV file with a header row and the columns ', el('code', {}, 'sku,name,price,taxRate'), ' (and optionally ', el('code', {}, 'archived'), '), one product per row. Prices like ', el('code', {}, '12.50'), ' (tax included, no currency sign), tax rates in percent like ', el('code', {}, '20'), '.'),
    el('p', { class: 'hint' }, 'Rows are matched by SKU: a new SKU adds a product, a known one updates it. Excel files saved as “CSV UTF-8” work, with commas or semicolons. Nothing is written until you confirm, and a file with any bad row is not imported at all. Export CSV gives a file in exactly this format.'),
    field('File', file),
    out,
  );
  const h = dialog('Import products from CSV', body, { wide: true });
  let text = null;
  let checked = null;
  h.button('Close', () => h.close());
  const go = h.button('Import', (b) => run(b), 'primary');
  go.disabled = true;
  go.id = 'import-go';

  file.addEventListener('change', async () => {
    go.disabled = true;
    checked = null;
    const f = file.files[0];
    if (!f) return;
    if (f.size > MAX_FILE) {
      fill(out, message('bad', `This file is ${(f.size / 1024 / 1024).toFixed(1)} MB; posd takes up to 0.9 MB at a time (about 10,000 products). Split it into smaller files, each with the header row, and import them one after the other.`));
      return;
    }
    text = await f.text();
    fill(out, message('info', `Checking ${f.name}…`));
    try {
      checked = await S.api.write('POST', '/api/products/import', { csv: text, dryRun: true });
    } catch (e) {
      return fill(out, message('bad', explain(e)));
    }
    fill(out, report(checked, true));
    go.disabled = checked.errors.length > 0 || checked.created + checked.changed === 0;
    if (!go.disabled) go.textContent = `Import ${checked.created + checked.changed} product${checked.created + checked.changed === 1 ? '' : 's'}`;
  });

  async function run(b) {
    if (!checked || !text) return;
    const rows = checked.rows;
    const parts = Math.max(1, Math.ceil(rows / PART));
    const bar = el('progress', { class: 'progress', max: parts, value: 0 });
    const note = el('p', { class: 'hint' });
    fill(out, el('p', {}, `Importing ${rows} rows…`), bar, note);
    file.disabled = true;
    const sum = { created: 0, changed: 0, unchanged: 0, errors: [], rows };
    const started = performance.now();
    await busy(b, 'Importing…', async () => {
      for (let i = 0; i < parts; i++) {
        const req = { csv: text, part: { from: i * PART, count: PART } };
        if (parts === 1) delete req.part;
        let r;
        try {
          r = await S.api.write('POST', '/api/products/import', req);
        } catch (e) {
          fill(out, message('bad', `Imported ${sum.created} new and ${sum.changed} changed products before this: `, explain(e), ' Importing the same file again picks up where it stopped: rows already in posd count as unchanged.'));
          return;
        }
        for (const k of ['created', 'changed', 'unchanged']) sum[k] += r[k];
        bar.value = i + 1;
        note.textContent = `${Math.min(rows, (i + 1) * PART)} of ${rows} rows`;
      }
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      fill(out, message('ok', `Imported: ${sum.created} created, ${sum.changed} changed, ${sum.unchanged} unchanged (${secs} s).`));
      toast(`Imported ${sum.created + sum.changed} products: ${sum.created} created, ${sum.changed} changed.`);
      b.hidden = true;
      reload();
    });
  }
}

/** report shows a dry run's findings: what would happen, and every bad row. */
function report(r, dry) {
  const bad = r.errors.length;
  const lines = [];
  if (bad) {
    const rowsBad = new Set(r.errors.map((e) => e.line)).size;
    lines.push(message('bad', `${rowsBad} row${rowsBad === 1 ? '' : 's'} need${rowsBad === 1 ? 's' : ''} fixing; nothing will be imported until the file is clean. Correct ${rowsBad === 1 ? 'it' : 'them'} in the file and choose it again.`));
    lines.push(
      el(
        'table',
        { class: 'data', id: 'import-errors' },
        el('thead', {}, el('tr', {}, el('th', { class: 'num' }, 'Line'), el('th', {}, 'Column'), el('th', {}, 'What is wrong'))),
        el('tbody', {}, r.errors.map((e) => el('tr', {}, el('td', { class: 'num' }, String(e.line)), el('td', {}, e.field || ''), el('td', {}, e.reason)))),
      ),
    );
  }
  const what = `${r.rows} row${r.rows === 1 ? '' : 's'} read: ${r.created} to create, ${r.changed} to change, ${r.unchanged} unchanged.`;
  if (!bad && r.created + r.changed === 0) lines.unshift(message('ok', `${what} Everything in this file is already in posd: 0 created, 0 changed.`));
  else lines.unshift(message(bad ? 'info' : 'ok', dry && !bad ? `${what} Nothing is written yet: press Import to do it.` : what));
  if (r.separator === ';') lines.push(el('p', { class: 'hint' }, 'Read as a semicolon-separated file (as Excel writes it in many European languages).'));
  return el('div', {}, lines);
}
