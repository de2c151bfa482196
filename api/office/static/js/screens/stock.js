// stock.js — the Stock screen: levels per location with negatives flagged
// (a sale is never refused for lack of stock, so a shortfall shows here),
// an adjustment with a reason, a stock count (type what is on the shelf,
// see the difference, post it as one adjustment) and a product's history.
import { S, when, locationName, parseQty, qtyText, locationLabel } from '../state.js';
import { explain, newKey, Waiting } from '../api.js';
import { el, fill, table, dialog, field, busy, toast, select, message } from '../views.js';

const REASONS = ['Damaged', 'Lost or stolen', 'Found', 'Opening balance', 'Correction', 'Expired'];
const KIND_TEXT = { sale: 'Sale', return: 'Refund', receipt: 'Purchase receipt', transfer: 'Transfer', adjustment: 'Adjustment' };

/** thousandths reads posd's JSON quantity (2, 0.25, -1.5) into integer thousandths. */
const th = (q) => Math.round(Number(q) * 1000);
/** qtyOf writes integer thousandths as a quantity posd accepts (negative allowed). */
const qtyOf = (t) => Number((t < 0 ? '-' : '') + qtyText(Math.abs(t)));

export async function render(ctx) {
  const { root, params } = ctx;
  let loc = params.get('location') || (S.locations[0] && S.locations[0].id);
  let products = [];
  let levels = new Map();
  let onlyNegative = params.get('negative') === '1';
  let counting = false;
  const counted = new Map(); // product id → typed text

  const locSel = select(S.locations.map((l) => ({ value: l.id, text: locationLabel(l) })), loc, { 'aria-label': 'Location', id: 'stock-location' });
  const negBox = el('input', { type: 'checkbox', checked: onlyNegative, id: 'only-negative' });
  const countBtn = el('button', { type: 'button', id: 'start-count', onclick: () => setCounting(!counting) }, 'Start a stock count');
  const summary = el('div');
  const t = table({
    columns: [
      { title: 'SKU', get: (p) => el('code', {}, p.sku) },
      { title: 'Product', get: (p) => el('button', { type: 'button', class: 'link', onclick: () => history(p) }, p.name) },
      { title: 'In stock', num: true, get: (p) => stockCell(p) },
      { title: 'Counted', num: true, class: 'count-col', get: (p) => countCell(p) },
      { title: 'Difference', num: true, class: 'count-col', get: (p) => diffCell(p) },
      { title: '', get: (p) => el('button', { type: 'button', class: 'small', onclick: () => adjust(p) }, 'Adjust') },
    ],
    filter: (p, q) => p.name.toLowerCase().includes(q) || p.sku.toLowerCase().includes(q),
    placeholder: 'Find a product',
    empty: 'No products here yet. Add them on the Products screen.',
    pageSize: 30,
    rowAttrs: (p) => ({ class: level(p) < 0 ? 'negative' : '', data: { sku: p.sku } }),
    toolbar: [el('label', { class: 'hint' }, negBox, ' Only negative stock')],
  });
  const postBtn = el('button', { type: 'button', class: 'primary', id: 'post-count', hidden: true, onclick: (e) => postCount(e.currentTarget) }, 'Post the count');
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Stock'), field('Location', locSel), countBtn, postBtn),
    summary,
    t.el,
  );
  locSel.addEventListener('change', () => {
    loc = locSel.value;
    counted.clear();
    reload();
  });
  negBox.addEventListener('change', () => {
    onlyNegative = negBox.checked;
    draw();
  });

  const level = (p) => levels.get(p.id) || 0;
  function stockCell(p) {
    const l = level(p);
    return el('span', { class: l < 0 ? 'negative' : '' }, String(qtyOf(l)), l < 0 ? el('span', { class: 'badge bad' }, ' negative') : null);
  }
  function countCell(p) {
    const i = el('input', { value: counted.get(p.id) || '', inputmode: 'decimal', 'aria-label': `Counted ${p.name}`, size: 6, data: { count: p.sku } });
    i.addEventListener('input', () => {
      counted.set(p.id, i.value);
      const d = i.closest('tr').querySelector('td:nth-child(5)');
      fill(d, diffCell(p));
      drawSummary();
    });
    return i;
  }
  function diff(p) {
    const text = (counted.get(p.id) || '').trim();
    if (!text) return null;
    const q = text === '0' ? 0 : parseQty(text);
    return q === null ? NaN : q - level(p);
  }
  function diffCell(p) {
    const d = diff(p);
    if (d === null) return '';
    if (Number.isNaN(d)) return el('span', { class: 'negative' }, 'not a quantity');
    return el('span', { class: d < 0 ? 'down' : d > 0 ? 'up' : '' }, d > 0 ? `+${qtyOf(d)}` : String(qtyOf(d)));
  }
  function setCounting(on) {
    counting = on;
    countBtn.textContent = on ? 'Cancel the count' : 'Start a stock count';
    postBtn.hidden = !on;
    if (!on) counted.clear();
    draw();
  }
  function drawSummary() {
    const neg = products.filter((p) => level(p) < 0).length;
    const parts = [];
    if (neg) parts.push(message('warn', `${neg} product${neg === 1 ? '' : 's'} below zero at ${locationName(loc)}: sold more than posd knew was there. Count them, or receive the goods.`));
    if (counting) {
      const ds = products.map((p) => [p, diff(p)]).filter(([, d]) => d !== null);
      const changes = ds.filter(([, d]) => !Number.isNaN(d) && d !== 0).length;
      parts.push(message('info', `Stock count at ${locationName(loc)}: type what is on the shelf in “Counted”. ${ds.length} counted so far, ${changes} with a difference. Products left empty are not changed.`));
    }
    fill(summary, parts);
  }
  function draw() {
    t.update(onlyNegative ? products.filter((p) => level(p) < 0) : products);
    for (const c of root.querySelectorAll('td.count-col, th.count-col')) c.hidden = !counting;
    drawSummary();
  }

  async function reload() {
    const [ps, st] = await Promise.all([S.api.get('/api/products'), S.api.get(`/api/stock?locationId=${encodeURIComponent(loc)}`)]);
    levels = new Map(st.items.map((i) => [i.productId, th(i.quantity)]));
    products = ps.products.sort((a, b) => a.name.localeCompare(b.name));
    draw();
  }

  function adjust(p) {
    const amount = el('input', { inputmode: 'decimal', placeholder: '-2 or 5', id: 'adjust-qty' });
    const reason = select(REASONS.map((r) => ({ value: r, text: r })), 'Damaged', { id: 'adjust-reason' });
    const note = el('input', { maxlength: 150, placeholder: 'optional: what happened' });
    const h = dialog(`Adjust ${p.name}`, el('form', { onsubmit: (e) => e.preventDefault() }, el('p', {}, `In stock at ${locationName(loc)}: ${qtyOf(level(p))}`), field('Change (use a minus to take away)', amount), el('div', { class: 'row' }, field('Reason', reason), field('Note', note))));
    let key = null;
    let sent = null;
    h.button('Cancel', () => h.close());
    h.button(
      'Save adjustment',
      async (b) => {
        const text = amount.value.trim();
        const neg = text.startsWith('-');
        const q = parseQty(neg ? text.slice(1) : text.replace(/^\+/, ''));
        if (q === null) return h.say('bad', `“${text}” is not a quantity. Write a number like 5, -2 or 0.25 (at most 3 decimals).`);
        const req = { locationId: loc, reason: note.value.trim() ? `${reason.value}: ${note.value.trim()}` : reason.value, items: [{ productId: p.id, quantity: qtyOf(neg ? -q : q) }] };
        if (!key || sent !== JSON.stringify(req)) [key, sent] = [newKey(), JSON.stringify(req)];
        await busy(b, 'Saving…', async () => {
          try {
            await S.api.write('POST', '/api/stock/adjustments', req, key);
            toast(`Adjusted ${p.name} by ${req.items[0].quantity} (${req.reason}).`);
            h.close();
            reload();
          } catch (e) {
            h.say(e instanceof Waiting ? 'warn' : 'bad', explain(e));
          }
        });
      },
      'primary',
    );
    amount.focus();
  }

  let countKey = null;
  let countSent = null;
  async function postCount(b) {
    // The count is compared with the stock as it is now, not as it was
    // when the count began: sales made meanwhile are not counted twice.
    await busy(b, 'Posting…', async () => {
      try {
        const st = await S.api.get(`/api/stock?locationId=${encodeURIComponent(loc)}`);
        levels = new Map(st.items.map((i) => [i.productId, th(i.quantity)]));
      } catch (e) {
        return toast(explain(e), 'bad');
      }
      const bad = products.filter((p) => Number.isNaN(diff(p)));
      if (bad.length) return toast(`“${counted.get(bad[0].id)}” for ${bad[0].name} is not a quantity. Fix it first.`, 'bad');
      const items = products.map((p) => [p, diff(p)]).filter(([, d]) => d !== null && d !== 0);
      const n = products.filter((p) => diff(p) !== null).length;
      if (!n) return toast('Nothing counted yet: type quantities in the Counted column.', 'bad');
      if (!items.length) {
        toast(`Counted ${n} product${n === 1 ? '' : 's'}: everything matches, nothing to post.`);
        return setCounting(false);
      }
      const req = { locationId: loc, reason: `Stock count ${new Date().toISOString().slice(0, 10)}: ${n} products counted`, items: items.map(([p, d]) => ({ productId: p.id, quantity: qtyOf(d) })) };
      if (!countKey || countSent !== JSON.stringify(req)) [countKey, countSent] = [newKey(), JSON.stringify(req)];
      try {
        await S.api.write('POST', '/api/stock/adjustments', req, countKey);
      } catch (e) {
        return toast(explain(e), 'bad');
      }
      toast(`Posted the count: ${n} counted, ${items.length} corrected in one adjustment.`);
      setCounting(false);
      reload();
    });
  }

  async function history(p) {
    const list = el('div', {}, el('p', { class: 'hint' }, 'Loading…'));
    dialog(`History of ${p.name} at ${locationName(loc)}`, list, { wide: true });
    try {
      const rows = [];
      let cursor = '';
      for (let i = 0; i < 20; i++) {
        const r = await S.api.get(`/api/stock/movements?productId=${encodeURIComponent(p.id)}&locationId=${encodeURIComponent(loc)}&limit=500&order=newest${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        rows.push(...r.movements);
        if (!r.nextCursor) break;
        cursor = r.nextCursor;
      }
      const tt = table({
        columns: [
          { title: 'When', get: (m) => when(m.at) },
          { title: 'What', get: (m) => `${KIND_TEXT[m.doc.kind] || m.doc.kind}${m.number ? ` ${m.number}` : ''}` },
          { title: 'Reason', get: (m) => m.reason || '' },
          { title: 'Change', num: true, get: (m) => el('span', { class: th(m.quantity) < 0 ? 'down' : 'up' }, th(m.quantity) > 0 ? `+${m.quantity}` : String(m.quantity)) },
          { title: 'After', num: true, get: (m) => String(m.balance) },
        ],
        rows,
        pageSize: 15,
        empty: 'No movements yet.',
      });
      fill(list, tt.el);
    } catch (e) {
      fill(list, message('bad', explain(e)));
    }
  }

  if (!loc) return fill(root, el('h1', {}, 'Stock'), message('warn', 'There is no location yet.'));
  await reload();
}
