// sell.js — ringing a sale up: finding products (typed or scanned), the
// cart and its payment, completing the sale through posd-client.js (one
// key per sale, kept with the cart before it is stored or sent) and the
// receipt, provisional until posd's invoice number follows.
import { newKey } from './posd-client.js';
import { parseQty, QTY, lineAmount, qtyOf } from './money.js';
import * as V from './views.js';
import { S, writeJSON } from './state.js';
import { tillRef, fmtTime, explain } from './words.js';

const $ = V.$;

/** enterSell shows the selling view for the till's location. */
export function enterSell() {
  $('location-name').textContent = S.location.name ? `· ${S.location.name}` : '';
  V.show('sell');
  drawCart();
  search();
  $('search').focus();
}

/** refreshProducts reloads the product list from posd, at most once a minute unless forced. */
export async function refreshProducts(force) {
  if (!S.client || (!force && Date.now() - S.productsAt < 60000)) return;
  S.productsAt = Date.now();
  try {
    const { products } = await S.client.get('/api/products');
    S.products = products;
    writeJSON('posd.products', products);
    search();
  } catch {
    /* the cached list serves until posd answers */
  }
}

/* ---------- finding products ---------- */

function find(q) {
  q = q.trim().toLowerCase();
  if (!q) return [...S.products].sort((a, b) => a.name.localeCompare(b.name)).slice(0, 40);
  const exact = S.products.filter((p) => p.sku.toLowerCase() === q);
  const rest = S.products.filter((p) => !exact.includes(p) && (p.name.toLowerCase().includes(q) || p.sku.toLowerCase().startsWith(q)));
  return [...exact, ...rest].slice(0, 40);
}

export function search() {
  S.found = find($('search').value);
  V.results(S.found, S.money, addProduct);
  const q = $('search').value.trim();
  const note = $('search-note');
  note.hidden = S.found.length > 0;
  note.textContent = S.products.length ? `No product matches “${q}”.` : 'No products on this till yet: they load when posd can be reached.';
}

export function onSearchKey(ev) {
  if (ev.key === 'Enter') {
    ev.preventDefault();
    const q = $('search').value.trim().toLowerCase();
    const list = find(q);
    const exact = list.find((p) => p.sku.toLowerCase() === q);
    if (exact || list.length === 1) return addProduct(exact || list[0]);
    const first = $('results').querySelector('button');
    if (first) first.focus();
    else search();
  } else if (ev.key === 'ArrowDown') {
    const first = $('results').querySelector('button');
    if (first) {
      ev.preventDefault();
      first.focus();
    }
  }
}

export function onResultsKey(ev) {
  const btns = [...$('results').querySelectorAll('button')];
  const i = btns.indexOf(document.activeElement);
  if (i < 0) return;
  if (ev.key === 'ArrowDown' && i + 1 < btns.length) btns[i + 1].focus();
  else if (ev.key === 'ArrowUp') (i > 0 ? btns[i - 1] : $('search')).focus();
  else return;
  ev.preventDefault();
}

function addProduct(p) {
  if (S.submitting) return;
  S.cart.add(p);
  $('search').value = '';
  search();
  V.setError('sale-error', '');
  drawCart();
  $('search').focus();
}

/* ---------- cart and payment ---------- */

const cartHandlers = {
  step(i, d) {
    const l = S.cart.lines[i];
    const q = l.qty + d * QTY;
    if (q <= 0) S.cart.remove(i);
    else S.cart.setQty(i, q);
    drawCart();
  },
  qty(i, input) {
    const q = parseQty(input.value);
    if (q === null) {
      V.setError('sale-error', 'Type a quantity like 2 or 0.25 (at most 3 decimals).');
      input.focus();
      return;
    }
    S.cart.setQty(i, q);
    V.setError('sale-error', '');
    drawCart();
  },
  remove(i) {
    S.cart.remove(i);
    drawCart();
    $('search').focus();
  },
};

export function drawCart() {
  const pay = V.cart(S.cart, S.money, cartHandlers);
  const cg = $('cash-given');
  const ca = $('card-amount');
  if (document.activeElement !== cg) cg.value = S.cart.cashGiven === null ? '' : S.money.plain(S.cart.cashGiven);
  if (document.activeElement !== ca) ca.value = S.cart.cardAmount === null ? '' : S.money.plain(S.cart.cardAmount);
  const btn = $('complete');
  btn.disabled = S.submitting || !pay.ok;
  if (!S.submitting) V.busy(btn, false, S.cart.lines.length ? `Complete sale · ${S.money.format(S.cart.total)}` : 'Complete sale');
  return pay;
}

export function setMethod(m) {
  if (S.submitting) return;
  S.cart.method = m;
  if (m !== 'split') S.cart.cardAmount = null;
  S.cart.changed();
  drawCart();
  (m === 'card' ? $('complete') : m === 'split' ? $('card-amount') : $('cash-given')).focus();
}

export function onAmount(which) {
  return (ev) => {
    const v = ev.target.value.trim();
    const n = v === '' ? null : S.money.parse(v);
    if (v !== '' && n === null) {
      V.setError('sale-error', `Type the amount like 20 or 20.50.`);
      return;
    }
    V.setError('sale-error', '');
    S.cart[which] = n;
    S.cart.changed();
    drawCart();
  };
}

/* ---------- completing a sale ---------- */

export async function completeSale() {
  if (S.submitting || document.body.dataset.view !== 'sell') return;
  const pay = S.cart.payment();
  if (!pay.ok) return V.setError('sale-error', pay.problem);
  const btn = $('complete');
  S.submitting = true; // before any await: a second click finds it set
  btn.disabled = true;
  V.busy(btn, true, 'Sending sale…');
  V.setError('sale-error', '');
  try {
    if (!S.cart.intentKey) {
      S.cart.intentKey = newKey(); // remembered with the cart before it is stored or sent
      S.cart.save();
    }
    const key = S.cart.intentKey;
    if (!(await S.client.entry(key))) {
      const meta = {
        kind: 'sale',
        ref: tillRef(key),
        total: S.cart.total,
        lines: S.cart.lines.map((l) => ({ name: l.name, qty: l.qty, amount: lineAmount(l.unitPrice, l.qty) })),
        payments: pay.payments,
        change: pay.change,
        createdAt: new Date().toISOString(),
      };
      await S.client.intent('POST', '/api/sales', S.cart.request(S.location.id), meta, key);
    }
    saleOutcome(key, await S.client.submit(key));
  } catch (e) {
    V.setError('sale-error', `The till could not store the sale (${e.message}). Nothing was sent. Try again.`);
  } finally {
    S.submitting = false;
    drawCart();
  }
}

/** resumeIntent finishes a sale whose Complete was pressed before a reload. */
export async function resumeIntent() {
  const key = S.cart.intentKey;
  if (!key) return;
  const e = await S.client.entry(key);
  if (!e) {
    S.cart.changed(); // never stored, so never sent: the cart is still to be completed
    drawCart();
    return;
  }
  S.submitting = true;
  V.busy($('complete'), true, 'Sending sale…');
  $('complete').disabled = true;
  try {
    saleOutcome(key, await S.client.submit(key));
  } finally {
    S.submitting = false;
    drawCart();
  }
}

function saleOutcome(key, out) {
  if (out.state === 'parked') {
    S.cart.intentKey = null;
    S.cart.save();
    V.setError('sale-error', explain(out.entry));
    return;
  }
  S.client.entry(key).then((e) => {
    showReceipt(e);
    S.cart.clear();
    drawCart();
    if (out.state === 'queued') V.toast('posd cannot be reached: the sale is kept on this till and sent by itself when posd answers again.');
  });
}

function showReceipt(e) {
  const m = e.meta;
  const sale = e.state === 'done' ? e.answer.body : null;
  S.receiptKey = e.key;
  V.receipt(
    {
      shop: S.me.business.name + (S.location.name ? ` · ${S.location.name}` : ''),
      createdAt: sale ? sale.createdAt : m.createdAt,
      invoiceNumber: sale ? sale.invoiceNumber : null,
      ref: m.ref,
      lines: sale ? sale.items.map((l) => ({ name: l.name, qty: qtyOf(l.quantity), amount: l.lineTotal })) : m.lines,
      total: sale ? sale.total : m.total,
      tax: sale ? sale.taxTotal : null,
      payments: sale ? sale.payments : m.payments,
      change: sale ? sale.change : m.change,
    },
    S.money,
    fmtTime,
  );
  V.show('receipt');
  $('new-sale').focus();
}

/** onSettled updates the receipt on screen when its sale's number follows. */
export function onSettled(entry) {
  if (entry && entry.state === 'done' && S.receiptKey === entry.key && document.body.dataset.view === 'receipt') showReceipt(entry);
}

/** newSale leaves the receipt (or a list) for an empty cart. */
export function newSale() {
  S.receiptKey = null;
  enterSell();
}
