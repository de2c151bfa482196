// purchases.js — the Purchases & transfers screen: goods received from
// suppliers (drafted, then approved: numbered RCV-… and added to stock) and
// stock moved between locations (drafted, sent: numbered TRF-… and taken
// from the source, then received at the destination). Every step is one
// intent; its state and number are shown as posd gives them.
import { S, money, when, locationName, parseMoney, parseQty, qtyText, locationLabel } from '../state.js';
import { explain, newKey } from '../api.js';
import { el, fill, table, dialog, field, busy, toast, select, message } from '../views.js';

const STATE = {
  draft: ['Draft', 'warn'],
  approved: ['Approved', 'ok'],
  in_transit: ['In transit', 'warn'],
  received: ['Received', 'ok'],
};
const badge = (s) => el('span', { class: `badge ${(STATE[s] || [])[1] || ''}` }, (STATE[s] || [s])[0]);

export async function render({ root, params }) {
  let tab = params.get('tab') === 'transfers' ? 'transfers' : 'receipts';
  let products = [];
  const tabs = el('div', { class: 'tabs', role: 'tablist' });
  const body = el('div');
  fill(root, el('div', { class: 'head' }, el('h1', {}, 'Purchases & transfers')), tabs, body);

  function drawTabs() {
    fill(
      tabs,
      ['receipts', 'transfers'].map((k) =>
        el('button', { type: 'button', 'aria-pressed': String(tab === k), id: `tab-${k}`, onclick: () => ((tab = k), drawTabs(), show()) }, k === 'receipts' ? 'Purchase receipts' : 'Transfers'),
      ),
    );
  }

  const receipts = table({
    columns: [
      { title: 'Number', get: (r) => r.receiptNumber || el('span', { class: 'hint' }, 'given on approval') },
      { title: 'Supplier', get: (r) => r.supplier },
      { title: 'Location', get: (r) => locationName(r.locationId) },
      { title: 'Lines', num: true, get: (r) => String(r.items.length) },
      { title: 'Cost', num: true, get: (r) => money(r.total) },
      { title: 'State', get: (r) => badge(r.status) },
      { title: 'Created', get: (r) => when(r.createdAt) },
      { title: '', get: (r) => (r.status === 'draft' ? el('button', { type: 'button', class: 'small primary', onclick: (e) => step(e.currentTarget, `/api/purchases/receipts/${r.id}/approve`, (x) => `Approved ${x.receiptNumber}: ${x.items.length} line(s) added to stock at ${locationName(x.locationId)}.`) }, 'Approve') : '') },
    ],
    filter: (r, q) => r.supplier.toLowerCase().includes(q) || (r.receiptNumber || '').toLowerCase().includes(q),
    placeholder: 'Filter by supplier or number',
    empty: 'No purchase receipts yet.',
    rowAttrs: (r) => ({ data: { supplier: r.supplier, status: r.status } }),
    toolbar: [el('button', { type: 'button', class: 'primary', id: 'new-receipt', onclick: () => newDoc('receipt') }, 'New purchase receipt')],
  });
  const transfers = table({
    columns: [
      { title: 'Number', get: (t) => t.transferNumber || el('span', { class: 'hint' }, 'given when sent') },
      { title: 'From', get: (t) => locationName(t.fromLocationId) },
      { title: 'To', get: (t) => locationName(t.toLocationId) },
      { title: 'Lines', num: true, get: (t) => String(t.items.length) },
      { title: 'State', get: (t) => badge(t.status) },
      { title: 'Created', get: (t) => when(t.createdAt) },
      {
        title: '',
        get: (t) =>
          t.status === 'draft'
            ? el('button', { type: 'button', class: 'small primary', onclick: (e) => step(e.currentTarget, `/api/transfers/${t.id}/send`, (x) => `Sent ${x.transferNumber}: the goods left ${locationName(x.fromLocationId)}.`) }, 'Send')
            : t.status === 'in_transit'
              ? el('button', { type: 'button', class: 'small primary', onclick: (e) => step(e.currentTarget, `/api/transfers/${t.id}/receive`, (x) => `Received ${x.transferNumber} at ${locationName(x.toLocationId)}.`) }, 'Receive')
              : '',
      },
    ],
    filter: (t, q) => (t.transferNumber || '').toLowerCase().includes(q) || locationName(t.fromLocationId).toLowerCase().includes(q) || locationName(t.toLocationId).toLowerCase().includes(q),
    placeholder: 'Filter by number or location',
    empty: 'No transfers yet.',
    rowAttrs: (t) => ({ data: { status: t.status } }),
    toolbar: [el('button', { type: 'button', class: 'primary', id: 'new-transfer', onclick: () => newDoc('transfer'), disabled: S.locations.length < 2 }, 'New transfer')],
  });

  async function listAll(path, key) {
    const out = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const r = await S.api.get(`${path}?limit=500&order=newest${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      out.push(...r[key]);
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    return out;
  }

  async function show() {
    if (tab === 'receipts') {
      fill(body, receipts.el);
      receipts.update(await listAll('/api/purchases/receipts', 'receipts'));
    } else {
      fill(body, S.locations.length < 2 ? message('info', 'A transfer moves stock between two locations; this shop has one. Add a location first.') : null, transfers.el);
      transfers.update(await listAll('/api/transfers', 'transfers'));
    }
  }

  /** step approves, sends or receives a document: one intent per click. */
  async function step(b, path, said) {
    await busy(b, 'Working…', async () => {
      try {
        const out = await S.api.write('POST', path, {});
        toast(said(out));
      } catch (e) {
        toast(explain(e), 'bad');
      }
      show();
    });
  }

  function newDoc(kind) {
    const isReceipt = kind === 'receipt';
    const locOpts = S.locations.map((l) => ({ value: l.id, text: locationLabel(l) }));
    const loc = select(locOpts, locOpts[0] && locOpts[0].value, { id: 'doc-location' });
    const to = select(locOpts, locOpts[1] && locOpts[1].value, { id: 'doc-to' });
    const supplier = el('input', { maxlength: 200, id: 'doc-supplier', placeholder: 'e.g. Orchard Ltd' });
    const lines = [];
    const tbody = el('tbody');
    const total = el('span', { class: 'hint' });
    const search = el('input', { type: 'search', placeholder: 'Add a product: name or SKU', id: 'doc-search', autocomplete: 'off' });
    const found = el('ul', { hidden: true });
    search.addEventListener('input', () => {
      const q = search.value.trim().toLowerCase();
      const hits = q ? products.filter((p) => p.name.toLowerCase().includes(q) || p.sku.toLowerCase().includes(q)).slice(0, 8) : [];
      fill(found, hits.map((p) => el('li', {}, el('button', { type: 'button', onclick: () => add(p) }, `${p.name} (${p.sku})`))));
      found.hidden = hits.length === 0;
    });
    search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        const q = search.value.trim().toLowerCase();
        const exact = products.find((p) => p.sku.toLowerCase() === q);
        const first = found.querySelector('button');
        if (exact) add(exact);
        else if (first) first.click();
      }
    });
    function add(p) {
      search.value = '';
      found.hidden = true;
      if (lines.some((l) => l.p.id === p.id)) return;
      const qty = el('input', { value: '1', inputmode: 'decimal', 'aria-label': `Quantity of ${p.name}` });
      const cost = el('input', { inputmode: 'decimal', 'aria-label': `Unit cost of ${p.name}`, placeholder: '0.00' });
      const line = { p, qty, cost };
      lines.push(line);
      for (const i of [qty, cost]) i.addEventListener('input', sum);
      const tr = el('tr', { data: { sku: p.sku } }, el('td', {}, p.name), el('td', {}, qty), isReceipt ? el('td', {}, cost) : null, el('td', {}, el('button', { type: 'button', class: 'small', onclick: () => (lines.splice(lines.indexOf(line), 1), tr.remove(), sum()) }, 'Remove')));
      tbody.append(tr);
      sum();
      qty.focus();
      qty.select();
    }
    function sum() {
      if (!isReceipt) return (total.textContent = `${lines.length} line(s)`);
      let cents = 0;
      for (const l of lines) {
        const q = parseQty(l.qty.value);
        const c = parseMoney(l.cost.value);
        if (q !== null && c !== null) cents += Math.round((c * q) / 1000);
      }
      total.textContent = `${lines.length} line(s), about ${money(cents)}`;
    }
    const form = el(
      'form',
      { onsubmit: (e) => e.preventDefault() },
      isReceipt ? el('div', { class: 'row' }, field('Supplier', supplier), field('Received at', loc)) : el('div', { class: 'row' }, field('From', loc), field('To', to)),
      el('div', { class: 'picker' }, search, found),
      el('table', { class: 'data lines' }, el('thead', {}, el('tr', {}, el('th', {}, 'Product'), el('th', {}, 'Quantity'), isReceipt ? el('th', {}, `Unit cost (${S.money.currency})`) : null, el('th', {}, ''))), tbody),
      total,
    );
    const h = dialog(isReceipt ? 'New purchase receipt' : 'New transfer', form, { wide: true });
    let key = null;
    let sent = null;
    h.button('Cancel', () => h.close());
    h.button(
      'Save as draft',
      async (b) => {
        if (!lines.length) return h.say('bad', 'Add at least one product.');
        const items = [];
        for (const l of lines) {
          const q = parseQty(l.qty.value);
          if (q === null) return h.say('bad', `The quantity “${l.qty.value}” of ${l.p.name} is not a positive number with at most 3 decimals.`);
          const it = { productId: l.p.id, quantity: Number(qtyText(q)) };
          if (isReceipt) {
            const c = parseMoney(l.cost.value || '0');
            if (c === null) return h.say('bad', `The unit cost “${l.cost.value}” of ${l.p.name} is not an amount like 12.50.`);
            it.unitCost = c;
          }
          items.push(it);
        }
        const req = isReceipt ? { locationId: loc.value, supplier: supplier.value.trim(), items } : { fromLocationId: loc.value, toLocationId: to.value, items };
        if (!key || sent !== JSON.stringify(req)) [key, sent] = [newKey(), JSON.stringify(req)];
        await busy(b, 'Saving…', async () => {
          try {
            await S.api.write('POST', isReceipt ? '/api/purchases/receipts' : '/api/transfers', req, key);
          } catch (e) {
            return h.say('bad', explain(e));
          }
          toast(isReceipt ? `Saved a draft receipt from ${req.supplier}: approve it when the goods are checked, to add them to stock.` : `Saved a draft transfer to ${locationName(req.toLocationId)}: send it when the goods leave.`);
          h.close();
          show();
        });
      },
      'primary',
    );
    (isReceipt ? supplier : search).focus();
  }

  drawTabs();
  products = (await S.api.get('/api/products')).products;
  await show();
}
