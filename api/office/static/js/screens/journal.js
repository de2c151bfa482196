// journal.js — the Journal: every numbered document by series (INV sales,
// RET refunds, RCV purchase receipts, TRF transfers), newest first, filtered
// by day, location, till and number; a document's detail; and a refund
// against the original sale, limited to what the sale still holds.
import { S, money, when, locationName, tillName, rate, parseQty, qtyText, today, locationLabel } from '../state.js';
import { explain, newKey } from '../api.js';
import { el, fill, dialog, field, busy, toast, select, message } from '../views.js';

const SERIES = {
  INV: { title: 'Sales (INV)', path: '/api/sales', key: 'sales', number: (d) => d.invoiceNumber, time: (d) => d.createdAt, tills: true },
  RET: { title: 'Refunds (RET)', path: '/api/returns', key: 'returns', number: (d) => d.returnNumber, time: (d) => d.createdAt, tills: true },
  RCV: { title: 'Purchase receipts (RCV)', path: '/api/purchases/receipts', key: 'receipts', number: (d) => d.receiptNumber, time: (d) => d.approvedAt, extra: 'status=approved' },
  TRF: { title: 'Transfers (TRF)', path: '/api/transfers', key: 'transfers', number: (d) => d.transferNumber, time: (d) => d.sentAt, extra: 'numbered=true' },
};
const KIND_SERIES = { sale: 'INV', return: 'RET', receipt: 'RCV', transfer: 'TRF' };
const METHOD = { cash: 'Cash', card: 'Card', voucher: 'Voucher', other: 'Other' };

export async function render({ root, params, go }) {
  const series = SERIES[params.get('series')] ? params.get('series') : 'INV';
  const def = SERIES[series];
  const day = el('input', { type: 'date', value: params.get('day') || '', id: 'j-day', max: today() });
  const loc = select([{ value: '', text: 'All locations' }, ...S.locations.map((l) => ({ value: l.id, text: locationLabel(l) }))], params.get('location') || '', { id: 'j-location' });
  const till = select([{ value: '', text: 'All tills' }, ...S.tills.map((t) => ({ value: t.id, text: t.name }))], params.get('till') || '', { id: 'j-till' });
  const number = el('input', { type: 'search', placeholder: 'e.g. INV-202611-0042', id: 'j-number', value: params.get('number') || '' });
  const tbody = el('tbody');
  const more = el('button', { type: 'button', id: 'j-more', hidden: true }, 'Show older');
  const note = el('div');
  const headRow = el('tr');
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Journal')),
    el('div', { class: 'tabs' }, Object.entries(SERIES).map(([k, s]) => el('button', { type: 'button', 'aria-pressed': String(k === series), onclick: () => go(`journal?series=${k}`), id: `series-${k}` }, s.title))),
    el('form', { class: 'row panel', id: 'j-filters', onsubmit: (e) => (e.preventDefault(), apply()) }, field('Day', day), field('Location', loc), def.tills ? field('Till', till) : null, field('Number', number), el('button', { type: 'submit', class: 'primary' }, 'Show'), el('button', { type: 'button', onclick: () => go(`journal?series=${series}`) }, 'Clear')),
    note,
    el('div', { class: 'table' }, el('div', { class: 'scroll' }, el('table', { class: 'data', id: 'journal' }, el('thead', {}, headRow), tbody)), el('div', { class: 'pager' }, more)),
  );

  function apply() {
    const q = new URLSearchParams({ series });
    if (day.value) q.set('day', day.value);
    if (loc.value) q.set('location', loc.value);
    if (till.value && def.tills) q.set('till', till.value);
    if (number.value.trim()) q.set('number', number.value.trim().toUpperCase());
    go(`journal?${q}`);
  }

  const cols = {
    INV: ['Number', 'Time', 'Location', 'Till', 'Total', 'Paid by', 'Refunded'],
    RET: ['Number', 'Time', 'Location', 'Till', 'Refunded', 'Of sale', 'Restocked'],
    RCV: ['Number', 'Approved', 'Location', 'Supplier', 'Cost'],
    TRF: ['Number', 'Sent', 'From', 'To', 'State'],
  }[series];
  fill(headRow, cols.map((c) => el('th', { class: ['Total', 'Refunded', 'Cost'].includes(c) && !(series === 'RET' && c === 'Refunded') ? 'num' : '' }, c)));

  function row(d) {
    const cells = {
      INV: () => [def.number(d), when(d.createdAt), locationName(d.locationId), tillName(d.tokenId), el('span', { class: 'num' }, money(d.total)), paidBy(d), d.returns.length ? `${d.returns.length} refund(s)` : ''],
      RET: () => [def.number(d), when(d.createdAt), locationName(d.locationId), tillName(d.tokenId), money(d.total), d.saleNumber || '', d.restock ? 'yes' : 'no'],
      RCV: () => [def.number(d), when(d.approvedAt), locationName(d.locationId), d.supplier, money(d.total)],
      TRF: () => [def.number(d), when(d.sentAt), locationName(d.fromLocationId), locationName(d.toLocationId), d.status === 'received' ? 'Received' : 'In transit'],
    }[series]();
    return el('tr', { class: 'clickable', onclick: () => detail(series, d), data: { number: def.number(d) || '' } }, cells.map((c, i) => el('td', { class: ['Total', 'Cost'].includes(cols[i]) ? 'num' : '' }, c)));
  }

  let cursor = '';
  let shown = 0;
  async function page() {
    const q = new URLSearchParams({ limit: '50', order: 'newest' });
    if (cursor) q.set('cursor', cursor);
    if (day.value) q.set('day', day.value);
    if (loc.value) q.set('locationId', loc.value);
    if (till.value && def.tills) q.set('tillId', till.value);
    const r = await S.api.get(`${def.path}?${q}${def.extra ? `&${def.extra}` : ''}`);
    const docs = r[def.key];
    tbody.append(...docs.map(row));
    shown += docs.length;
    cursor = r.nextCursor || '';
    more.hidden = !cursor;
    if (!shown) fill(note, message('info', day.value || loc.value || till.value ? 'No documents match these filters.' : 'No documents in this series yet.'));
  }
  more.addEventListener('click', () => busy(more, 'Loading…', page));

  if (series === 'RCV' || series === 'TRF') {
    const ps = await S.api.get('/api/products?includeArchived=true');
    productNames = new Map(ps.products.map((p) => [p.id, p.name]));
  }
  const wanted = number.value.trim().toUpperCase();
  if (wanted) {
    try {
      const r = await S.api.get(`/api/documents/${encodeURIComponent(wanted)}`);
      const s = KIND_SERIES[r.kind];
      if (s !== series) return go(`journal?series=${s}&number=${encodeURIComponent(wanted)}`);
      tbody.append(row(r.document));
      detail(s, r.document);
    } catch (e) {
      fill(note, message(e.code === 'not_found' ? 'warn' : 'bad', e.code === 'not_found' ? `posd has no document numbered ${wanted}. Numbers look like INV-202611-0042.` : explain(e)));
    }
    return;
  }
  await page();
}

function paidBy(s) {
  return s.payments.map((p) => `${METHOD[p.method] || p.method} ${money(p.amount)}`).join(' + ') + (s.change ? ` (change ${money(s.change)})` : '');
}

/** detail shows one document, and for a sale its refunds and a Refund button. */
async function detail(series, d) {
  const body = el('div');
  const h = dialog(`${SERIES[series].number(d)}`, body, { wide: true });
  const kv = (pairs) => el('dl', { class: 'kv' }, pairs.filter(Boolean).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const lines = (items, withTax) =>
    el(
      'table',
      { class: 'data' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Product'), el('th', { class: 'num' }, 'Qty'), el('th', { class: 'num' }, 'Price'), withTax ? el('th', { class: 'num' }, 'Tax') : null, el('th', { class: 'num' }, 'Amount'), series === 'INV' ? el('th', { class: 'num' }, 'Refunded') : null)),
      el(
        'tbody',
        {},
        items.map((l) =>
          el(
            'tr',
            {},
            el('td', {}, l.name || l.productId, l.sku ? el('span', { class: 'hint' }, ` ${l.sku}`) : null),
            el('td', { class: 'num' }, String(l.quantity)),
            el('td', { class: 'num' }, money(l.unitPrice ?? l.unitCost ?? 0)),
            withTax ? el('td', { class: 'num' }, `${money(l.taxAmount)} (${rate(l.taxRate)})`) : null,
            el('td', { class: 'num' }, money(l.lineTotal ?? 0)),
            series === 'INV' ? el('td', { class: 'num' }, Number(l.refundedQuantity) ? `${l.refundedQuantity} (${money(l.refundedAmount)})` : '') : null,
          ),
        ),
      ),
    );
  if (series === 'INV') {
    fill(
      body,
      kv([
        ['Time', when(d.createdAt)],
        ['Location', locationName(d.locationId)],
        ['Till', tillName(d.tokenId)],
        ['Total', `${money(d.total)} (tax included: ${money(d.taxTotal)})`],
        ['Paid', paidBy(d)],
      ]),
      lines(d.items, true),
      d.returns.length ? el('p', { class: 'hint' }, `${d.returns.length} refund(s) against this sale: see the RET series.`) : null,
    );
    const left = d.items.some((l) => Number(l.refundedQuantity) < Number(l.quantity));
    if (left) h.button('Refund…', () => (h.close(), refund(d)), 'primary');
  } else if (series === 'RET') {
    fill(body, kv([['Time', when(d.createdAt)], ['Location', locationName(d.locationId)], ['Till', tillName(d.tokenId)], ['Of sale', d.saleNumber || d.saleId], ['Paid back', money(d.total)], ['Back into stock', d.restock ? 'yes' : 'no (damaged goods)']]), lines(d.items, false));
  } else if (series === 'RCV') {
    fill(body, kv([['Approved', when(d.approvedAt)], ['Location', locationName(d.locationId)], ['Supplier', d.supplier], ['Cost', money(d.total)]]), lines(d.items.map((l) => ({ ...l, name: l.name || productName(l.productId) })), false));
  } else {
    fill(body, kv([['Sent', when(d.sentAt)], ['Received', d.receivedAt ? when(d.receivedAt) : 'not yet'], ['From', locationName(d.fromLocationId)], ['To', locationName(d.toLocationId)]]), lines(d.items.map((l) => ({ ...l, name: productName(l.productId) })), false));
  }
  // The document's hash in its chain: the first 8 hex digits are the short
  // form a receipt shows, so a receipt can be matched to what posd keeps.
  if (d.hash) body.append(kv([['Hash', el('code', { class: 'hash', 'data-hash': d.hash }, el('strong', {}, d.hash.slice(0, 8)), d.hash.slice(8))]]));
  h.button('Close', () => h.close());
}

let productNames = new Map();
const productName = (id) => productNames.get(id) || 'a removed product';

/** refund asks which lines and how much, then refunds against the sale (RET-…). */
function refund(sale) {
  const inputs = [];
  const restock = el('input', { type: 'checkbox', checked: true, id: 'refund-restock' });
  const totalOut = el('strong', { id: 'refund-total' });
  const rows = sale.items
    .filter((l) => Number(l.refundedQuantity) < Number(l.quantity))
    .map((l) => {
      const left = Math.round((Number(l.quantity) - Number(l.refundedQuantity)) * 1000);
      const i = el('input', { inputmode: 'decimal', value: '', placeholder: '0', 'aria-label': `Refund quantity of ${l.name}`, data: { sku: l.sku } });
      inputs.push({ l, i, left });
      i.addEventListener('input', sum);
      return el('tr', {}, el('td', {}, l.name), el('td', { class: 'num' }, qtyText(left)), el('td', {}, i));
    });
  function amount({ l, i, left }) {
    const q = parseQty(i.value);
    if (q === null || q > left) return null;
    // Each refund pays the difference of the line's rounded amounts after
    // and before it, as posd does, so a line refunded in steps pays back
    // exactly its total.
    const qtyAll = Math.round(Number(l.quantity) * 1000);
    const done = qtyAll - left;
    const after = Math.round((l.lineTotal * (done + q)) / qtyAll);
    return after - l.refundedAmount;
  }
  function sum() {
    let t = 0;
    for (const x of inputs) if (x.i.value.trim()) t += amount(x) || 0;
    totalOut.textContent = money(t);
  }
  const h = dialog(
    `Refund from ${sale.invoiceNumber}`,
    el(
      'div',
      {},
      el('table', { class: 'data lines' }, el('thead', {}, el('tr', {}, el('th', {}, 'Product'), el('th', { class: 'num' }, 'Can still be refunded'), el('th', {}, 'Refund'))), el('tbody', {}, rows)),
      el('p', {}, el('label', {}, restock, ' Put the goods back into stock (untick for damaged goods)')),
      el('p', {}, 'To pay back: ', totalOut),
    ),
  );
  sum();
  let key = null;
  let sent = null;
  h.button('Cancel', () => h.close());
  h.button(
    'Refund',
    async (b) => {
      const items = [];
      for (const x of inputs) {
        if (!x.i.value.trim()) continue;
        const q = parseQty(x.i.value);
        if (q === null) return h.say('bad', `“${x.i.value}” for ${x.l.name} is not a quantity.`);
        if (q > x.left) return h.say('bad', `At most ${qtyText(x.left)} of ${x.l.name} can still be refunded.`);
        items.push({ productId: x.l.productId, quantity: Number(qtyText(q)) });
      }
      if (!items.length) return h.say('bad', 'Type how much of which product to refund.');
      const req = { items, restock: restock.checked };
      if (!key || sent !== JSON.stringify(req)) [key, sent] = [newKey(), JSON.stringify(req)];
      await busy(b, 'Refunding…', async () => {
        try {
          const r = await S.api.write('POST', `/api/sales/${sale.id}/refund`, req, key);
          h.close();
          toast(`Refunded ${money(r.total)} from ${sale.invoiceNumber} as ${r.returnNumber}${r.restock ? '; the goods are back in stock' : ''}.`);
          location.hash = `#/journal?series=RET&number=${encodeURIComponent(r.returnNumber)}`;
        } catch (e) {
          h.say('bad', explain(e));
        }
      });
    },
    'primary',
  );
}
