// sell.js — ringing a sale up: finding products (typed or scanned), the
// cart and its payment, completing the sale through posd-client.js (one
// key per sale, kept with the cart before it is stored or sent) and the
// receipt, provisional until posd's invoice number follows.
import { newKey } from './posd-client.js';
import { parseQty, QTY, lineAmount, qtyOf } from './money.js';
import * as V from './views.js';
import { S, writeJSON } from './state.js';
import { tillRef, fmtTime, explain, keptNotice } from './words.js';
import { needsCashier, showCashier, cashierField, drawCashier } from './cashier.js';

const $ = V.$;

/** enterSell shows the selling view for the till's location; first who is selling, when the shop has cashiers. */
export function enterSell() {
  $('location-name').textContent = S.location.name ? `· ${S.location.name}` : '';
  drawCashier();
  if (needsCashier()) return showCashier();
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
    const { products } = await S.client.get('/api/products', { timeoutMs: 60000 }); // in the background: as patient as a write
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
  clearNotice();
  drawCart();
  // The line just rung up stays in view, however long the cart.
  const i = S.cart.lines.findIndex((l) => l.productId === p.id && l.unitPrice === p.price);
  const row = document.querySelector(`#cart-lines tr[data-line="${i}"]`);
  if (row) row.scrollIntoView({ block: 'nearest' });
  $('search').focus();
}

/* ---------- cart and payment ----------
 * What the screen shows and what is sold never differ: a box whose text
 * is not a value (abc, 0, 1.2345, 2O.00) is kept as typed, marked, and
 * listed in S.bad until it is fixed or reverted, and the sale cannot
 * complete meanwhile; a box whose text is a value puts it into the cart at
 * once, so the total on screen is always the cart's.
 */

const lineId = (l) => `qty:${l.productId}@${l.unitPrice}`;
const qtyWords = (l) => `Type a quantity like 2 or 0.25 (at most 3 decimals) for ${l.name}.`;
const AMOUNT = {
  cashGiven: { id: 'cash', input: 'cash-given', words: 'Type the cash given like 20 or 20.50 (or leave it empty for the exact amount).' },
  cardAmount: { id: 'card', input: 'card-amount', words: 'Type the card part like 20 or 20.50.' },
};

/** saleError shows a message above Complete sale; kind tells which kind a later change may clear. */
function saleError(text, kind) {
  if (!text && kind && S.saleErrorKind !== kind) return;
  V.setError('sale-error', text);
  S.saleErrorKind = text ? kind : null;
}

/** clearNotice clears a message about the sale (posd's refusal, the payment) once the cart changes; a box's message stays while the box is off. */
function clearNotice() {
  if (S.saleErrorKind && S.saleErrorKind !== 'field') saleError('', S.saleErrorKind);
}

/** badFields lists the boxes that are off, in screen order, each with its input. */
function badFields() {
  const out = [];
  S.cart.lines.forEach((l, i) => {
    const b = S.bad.get(lineId(l));
    if (b) out.push({ ...b, input: document.querySelector(`#cart-lines tr[data-line="${i}"] .qty-input`) });
  });
  for (const a of [AMOUNT.cardAmount, AMOUNT.cashGiven]) {
    const b = S.bad.get(a.id);
    if (b) out.push({ ...b, input: $(a.input) });
  }
  return out;
}

/** drawFieldProblem shows the first off box's message once it was left (or a sale was tried), and clears it when none is left. */
function drawFieldProblem() {
  const shown = badFields().find((b) => b.shown);
  if (shown) saleError(shown.message, 'field');
  else saleError('', 'field');
}

/** offBox records (message) or forgets (null) a box whose text is not the cart's. */
function offBox(id, input, message) {
  V.mark(input, message);
  if (!message) return S.bad.delete(id);
  const prev = S.bad.get(id);
  S.bad.set(id, { id, text: input.value, message, shown: !!(prev && prev.shown) });
}

function showOff(id) {
  const b = S.bad.get(id);
  if (b) b.shown = true;
  drawFieldProblem();
}

const cartHandlers = {
  step(i, d) {
    const l = S.cart.lines[i];
    S.bad.delete(lineId(l)); // the box shows the new quantity
    const q = l.qty + d * QTY;
    if (q <= 0) S.cart.remove(i);
    else S.cart.setQty(i, q);
    clearNotice();
    drawCart();
  },
  qty(i, input) {
    const l = S.cart.lines[i];
    const q = parseQty(input.value);
    offBox(lineId(l), input, q === null ? qtyWords(l) : null);
    if (q !== null && q !== l.qty) {
      S.cart.setQty(i, q);
      V.lineSum(i, l, S.money);
      clearNotice();
    }
    drawSums();
  },
  qtyDone(i) {
    showOff(lineId(S.cart.lines[i]));
  },
  remove(i) {
    S.bad.delete(lineId(S.cart.lines[i]));
    S.cart.remove(i);
    clearNotice();
    drawCart();
    $('search').focus();
  },
};

export function drawCart() {
  const live = new Set(S.cart.lines.map(lineId));
  for (const k of S.bad.keys()) if (k.startsWith('qty:') && !live.has(k)) S.bad.delete(k);
  V.cartLines(S.cart, S.money, cartHandlers);
  S.cart.lines.forEach((l, i) => {
    const b = S.bad.get(lineId(l));
    if (!b) return;
    const input = document.querySelector(`#cart-lines tr[data-line="${i}"] .qty-input`);
    input.value = b.text; // still as typed, still marked
    V.mark(input, b.message);
  });
  return drawSums();
}

/** drawSums redraws the total, the payment and whether the sale can complete. */
function drawSums() {
  const pay = V.cartSums(S.cart, S.money);
  for (const which of ['cashGiven', 'cardAmount']) {
    const a = AMOUNT[which];
    const input = $(a.input);
    if (!S.bad.has(a.id) && document.activeElement !== input) input.value = S.cart[which] === null ? '' : S.money.plain(S.cart[which]);
    V.mark(input, S.bad.has(a.id) ? S.bad.get(a.id).message : null);
  }
  const btn = $('complete');
  btn.disabled = S.submitting; // only while a sale is on its way; otherwise a tap is answered in words
  V.ready(btn, !S.submitting && pay.ok && S.bad.size === 0);
  if (!S.submitting) V.busy(btn, false, S.cart.lines.length ? `Complete sale · ${S.money.format(S.cart.total)}` : 'Complete sale');
  drawFieldProblem();
  return pay;
}

export function setMethod(m) {
  if (S.submitting) return;
  S.cart.method = m;
  if (m !== 'split') S.cart.cardAmount = null;
  // A box that leaves the screen holds nothing the sale would use.
  if (m !== 'split') S.bad.delete('card');
  if (m === 'card') S.bad.delete('cash');
  S.cart.changed();
  clearNotice();
  drawCart();
  (m === 'card' ? $('complete') : m === 'split' ? $('card-amount') : $('cash-given')).focus();
}

/** onAmount takes a keystroke in the cash or card box: a value goes into the cart at once, anything else marks the box. */
export function onAmount(which) {
  const a = AMOUNT[which];
  return (ev) => {
    const v = ev.target.value.trim();
    const n = v === '' ? null : S.money.parse(v);
    offBox(a.id, ev.target, v !== '' && n === null ? a.words : null);
    if (!(v !== '' && n === null) && S.cart[which] !== n) {
      S.cart[which] = n;
      S.cart.changed();
      clearNotice();
    }
    drawSums();
  };
}

/** onAmountDone shows the message of a box left holding something that is not an amount. */
export function onAmountDone(which) {
  return () => showOff(AMOUNT[which].id);
}

/** amountOff tells whether an amount box is off (so Enter shows why instead of moving on). */
export function amountOff(which) {
  return S.bad.has(AMOUNT[which].id);
}

/* ---------- completing a sale ---------- */

/**
 * completeSale answers Complete sale (a tap, Enter on the button, F9,
 * Ctrl+Enter). A sale that cannot go ahead says why, in the same words
 * whichever way it was asked.
 */
export async function completeSale() {
  if (S.submitting || document.body.dataset.view !== 'sell') return;
  const off = badFields()[0];
  if (off) {
    showOff(off.id);
    if (off.input) off.input.focus();
    return;
  }
  const pay = S.cart.payment();
  if (!pay.ok) return saleError(pay.problem, 'pay');
  const btn = $('complete');
  S.submitting = true; // before any await: a second click finds it set
  btn.disabled = true;
  V.ready(btn, false);
  V.busy(btn, true, 'Sending sale…');
  saleError('', S.saleErrorKind);
  const c = S.client;
  try {
    if (!S.cart.intentKey) {
      S.cart.intentKey = newKey(); // remembered with the cart before it is stored or sent
      S.cart.save();
    }
    const key = S.cart.intentKey;
    if (!(await c.entry(key))) {
      const meta = {
        kind: 'sale',
        ref: tillRef(key),
        total: S.cart.total,
        lines: S.cart.lines.map((l) => ({ name: l.name, qty: l.qty, amount: lineAmount(l.unitPrice, l.qty) })),
        payments: pay.payments,
        change: pay.change,
        createdAt: new Date().toISOString(),
      };
      // The till's time and the cashier go with the sale, queued or not
      // (contract §6): posd keeps them beside its own commit time.
      const body = { ...S.cart.request(S.location.id), soldAt: meta.createdAt, ...cashierField() };
      await c.intent('POST', '/api/sales', body, meta, key);
    }
    await saleOutcome(c, key, await c.submit(key));
  } catch (e) {
    saleError(`The till could not store the sale (${e.message}). Nothing was sent. Try again.`, 'store');
  } finally {
    S.submitting = false;
    drawCart();
  }
}

/** resumeIntent finishes a sale whose Complete was pressed before a reload. */
export async function resumeIntent() {
  const key = S.cart.intentKey;
  const c = S.client;
  if (!key || !c) return;
  const e = await c.entry(key);
  if (!e) {
    S.cart.changed(); // never stored, so never sent: the cart is still to be completed
    drawCart();
    return;
  }
  S.submitting = true;
  V.busy($('complete'), true, 'Sending sale…');
  $('complete').disabled = true;
  try {
    await saleOutcome(c, key, await c.submit(key));
  } finally {
    S.submitting = false;
    drawCart();
  }
}

/**
 * saleOutcome shows what became of a completed cart: the receipt (with
 * posd's number, or provisional with the till reference while it is
 * queued), or posd's refusal above the cart.
 */
async function saleOutcome(c, key, out) {
  if (out.state === 'parked') {
    S.cart.intentKey = null;
    S.cart.save();
    saleError(explain(out.entry), 'parked');
    return;
  }
  const e = await c.entry(key);
  S.cart.clear();
  if (S.client !== c) return; // signed out meanwhile (posd refused the token): the sale stays queued
  showReceipt(e);
  if (out.state === 'queued') V.toast(keptNotice(c.status));
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
      hash: sale ? sale.hash : null,
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
