// views.js — what the cashier sees: small functions that draw one part of
// the page from plain data. They hold no state (that is state.js's) and
// take their words from words.js.
import { lineAmount, qtyText, qtyOf } from './money.js';
import { STATUS_TEXT } from './words.js';

export const $ = (id) => document.getElementById(id);

/** el builds an element: el('td', {class: 'num'}, 'text', child…). */
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

const VIEWS = ['signin', 'location', 'cashier', 'sell', 'receipt', 'sales', 'refund', 'queue', 'shift'];

/** show makes one view visible. */
export function show(name) {
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== name;
  document.body.dataset.view = name;
  $('nav').hidden = name === 'signin' || name === 'location';
}

/** setError shows or hides a message for the cashier. */
export function setError(id, text) {
  const p = $(id);
  p.textContent = text || '';
  p.hidden = !text;
}

/** connection draws the indicator and the queued counter. */
export function connection(status, counts) {
  counts = counts || { queued: 0, parked: 0 };
  const c = $('conn');
  c.dataset.status = status;
  c.textContent = STATUS_TEXT[status] || status;
  const q = $('queue-btn');
  q.dataset.queued = counts.queued;
  q.dataset.parked = counts.parked;
  $('queued-count').textContent = counts.queued;
  $('parked-count').textContent = counts.parked;
  $('parked-note').hidden = counts.parked === 0;
}

/** results lists the products found; onPick adds one to the cart. */
export function results(list, money, onPick) {
  const ul = $('results');
  ul.replaceChildren(
    ...list.map((p, i) =>
      el('li', {}, el('button', { type: 'button', class: 'product', 'data-sku': p.sku, 'data-index': i, onclick: () => onPick(p) }, el('span', { class: 'name' }, p.name), el('span', { class: 'sku' }, p.sku), el('span', { class: 'price' }, money.format(p.price)))),
    ),
  );
}

/**
 * cartLines draws the cart's lines. h has step(i, d), qty(i, input) on
 * every keystroke in a quantity box, qtyDone(i, input) when it is left,
 * and remove(i). The quantity box sits inside its cell (a flex cell would
 * not be a table cell and would break the row's border).
 */
export function cartLines(c, money, h) {
  $('cart-lines').replaceChildren(
    ...c.lines.map((l, i) =>
      el(
        'tr',
        { 'data-sku': l.sku, 'data-line': i },
        el('td', {}, el('div', { class: 'name' }, l.name), el('div', { class: 'sku' }, `${l.sku} · ${money.format(l.unitPrice)}`)),
        el(
          'td',
          { class: 'num' },
          el(
            'div',
            { class: 'qty' },
            el('button', { type: 'button', class: 'step', 'aria-label': `One less ${l.name}`, onclick: () => h.step(i, -1) }, '−'),
            el('input', { class: 'qty-input', inputmode: 'decimal', autocomplete: 'off', 'aria-label': `Quantity of ${l.name}`, 'aria-describedby': 'sale-error', value: qtyText(l.qty), oninput: (e) => h.qty(i, e.target), onchange: (e) => h.qtyDone(i, e.target) }),
            el('button', { type: 'button', class: 'step', 'aria-label': `One more ${l.name}`, onclick: () => h.step(i, 1) }, '+'),
          ),
        ),
        el('td', { class: 'num amt' }, money.format(lineAmount(l.unitPrice, l.qty))),
        el('td', { class: 'act' }, el('button', { type: 'button', class: 'remove', 'aria-label': `Remove ${l.name}`, onclick: () => h.remove(i) }, '✕')),
      ),
    ),
  );
  $('cart-empty').hidden = c.lines.length > 0;
}

/** lineSum redraws one line's amount after its quantity changed in its box. */
export function lineSum(i, l, money) {
  const cell = document.querySelector(`#cart-lines tr[data-line="${i}"] .amt`);
  if (cell) cell.textContent = money.format(lineAmount(l.unitPrice, l.qty));
}

/** cartSums draws the total and the payment of the cart; it returns c.payment(). */
export function cartSums(c, money) {
  $('total').textContent = money.format(c.total);
  for (const m of ['cash', 'card', 'split']) {
    const b = $(`pay-${m}`);
    b.classList.toggle('on', c.method === m);
    b.setAttribute('aria-checked', String(c.method === m));
  }
  $('card-part').hidden = c.method !== 'split';
  $('cash-part').hidden = c.method === 'card';
  const pay = c.payment();
  $('change').textContent = money.format(Math.max(0, pay.change));
  $('change-row').hidden = c.method === 'card';
  return pay;
}

/** mark shows that an input holds a value that is not the cart's (message) or clears it (null). */
export function mark(input, message) {
  input.classList.toggle('bad', !!message);
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** ready shows whether Complete sale would go ahead; not ready, it still answers a tap with the reason. */
export function ready(btn, on) {
  btn.setAttribute('aria-disabled', String(!on));
  btn.classList.toggle('not-ready', !on);
}

/** busy puts a button in its working state, with a spinner and a text. */
export function busy(btn, on, text) {
  btn.classList.toggle('busy', on);
  btn.setAttribute('aria-busy', String(on));
  if (text) btn.querySelector('.label').textContent = text;
}

/**
 * receipt draws a sale's receipt: posd's sale when it answered, or the
 * cart's copy with the till reference while the number is to follow.
 */
export function receipt(r, money, fmtTime) {
  $('receipt-shop').textContent = r.shop;
  $('receipt-when').textContent = fmtTime(r.createdAt);
  $('receipt-number').textContent = r.invoiceNumber ? `Invoice ${r.invoiceNumber}` : 'Invoice number follows';
  $('receipt-number').dataset.number = r.invoiceNumber || '';
  $('receipt-provisional').hidden = !!r.invoiceNumber;
  $('receipt-ref').textContent = r.ref;
  $('receipt-lines').replaceChildren(
    ...r.lines.map((l) => el('tr', {}, el('td', {}, `${qtyText(l.qty)} × ${l.name}`), el('td', { class: 'num' }, money.format(l.amount)))),
  );
  // posd computes the tax contained in the prices; a provisional receipt
  // (number to follow) leaves it to posd rather than guess.
  const tax = r.tax ? [['incl. tax', r.tax]] : [];
  const sums = [['Total', r.total], ...tax, ...r.payments.map((p) => [p.method === 'cash' ? 'Cash' : p.method === 'card' ? 'Card' : p.method, p.amount]), ['Change', r.change]];
  $('receipt-sums').replaceChildren(...sums.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, money.format(v))]));
  // The short form of the sale's hash (its first 8 hex digits): what an
  // auditor compares with the document's hash in posd's journal or export
  // to see the receipt matches the sale posd keeps. A provisional receipt
  // has none yet.
  $('receipt-hash').hidden = !r.hash;
  $('receipt-hash-short').textContent = r.hash ? shortHash(r.hash) : '';
  $('receipt-hash').dataset.hash = r.hash || '';
}

/** shortHash is the form of a document's hash printed on receipts. */
export function shortHash(h) {
  return String(h).slice(0, 8);
}

/** sales lists the recent sales: the till's unsent ones first, then posd's. */
export function sales(local, remote, money, fmtTime, onRefund) {
  const rows = [];
  for (const e of local) {
    const m = e.meta || {};
    rows.push(
      el(
        'li',
        { class: `sale ${e.state}`, 'data-ref': m.ref || '', 'data-state': e.state },
        el('span', { class: 'no' }, e.state === 'parked' ? 'Refused by posd' : 'Number follows'),
        el('span', { class: 'ref' }, `Till ref ${m.ref || e.key.slice(0, 8)}`),
        el('span', { class: 'when' }, fmtTime(e.createdAt)),
        el('span', { class: 'amt' }, money.format(m.total || 0)),
        el('span', {}, ''),
      ),
    );
  }
  for (const s of remote) {
    rows.push(
      el(
        'li',
        { class: 'sale', 'data-number': s.invoiceNumber, 'data-ref': s.ref || '' },
        el('span', { class: 'no' }, s.invoiceNumber),
        el('span', { class: 'ref' }, s.ref ? `Till ref ${s.ref}` : `${s.items.length} line${s.items.length === 1 ? '' : 's'}`),
        el('span', { class: 'when' }, fmtTime(s.createdAt)),
        el('span', { class: 'amt' }, money.format(s.total)),
        el('button', { type: 'button', class: 'refund-btn', 'aria-label': `Refund ${s.invoiceNumber}`, onclick: () => onRefund(s) }, 'Refund'),
      ),
    );
  }
  if (!rows.length) rows.push(el('li', { class: 'hint' }, 'No sales yet.'));
  $('sales-list').replaceChildren(...rows);
}

/** queue lists the waiting and the refused entries. */
export function queue(queued, parked, money, fmtTime, explain, onDismiss) {
  const row = (e) =>
    el(
      'li',
      { class: `sale ${e.state}`, 'data-key': e.key },
      el('span', { class: 'no' }, (e.meta && e.meta.kind) === 'refund' ? 'Refund' : 'Sale'),
      el('span', { class: 'ref' }, `Till ref ${(e.meta && e.meta.ref) || e.key.slice(0, 8)}`),
      el('span', { class: 'when' }, fmtTime(e.createdAt)),
      el('span', { class: 'amt' }, money.format((e.meta && e.meta.total) || 0)),
      e.state === 'parked' ? el('span', { class: 'why' }, explain(e)) : null,
      e.state === 'parked' ? el('button', { type: 'button', onclick: () => onDismiss(e) }, 'Dismiss') : null,
    );
  $('queue-list').replaceChildren(...(queued.length ? queued.map(row) : [el('li', { class: 'hint' }, 'Nothing waiting.')]));
  $('parked-list').replaceChildren(...(parked.length ? parked.map(row) : [el('li', { class: 'hint' }, 'None.')]));
  $('export-parked').disabled = parked.length === 0;
}

/** refund draws the refund form of a sale. */
export function refund(sale, picks, money) {
  $('refund-number').textContent = sale.invoiceNumber;
  $('refund-lines').replaceChildren(
    ...sale.items.map((l, i) => {
      const sold = qtyOf(l.quantity);
      const left = sold - qtyOf(l.refundedQuantity);
      return el(
        'tr',
        {},
        el('td', {}, el('div', { class: 'name' }, l.name), el('div', { class: 'sku' }, `${l.sku} · ${money.format(l.unitPrice)}`)),
        el('td', { class: 'num' }, `${qtyText(sold)}${left < sold ? ` (${qtyText(left)} left)` : ''}`),
        el('td', { class: 'num' }, el('input', { class: 'qty-input refund-qty', inputmode: 'decimal', 'data-index': i, 'aria-label': `Refund quantity of ${l.name}`, value: picks[i] ? qtyText(picks[i]) : '0', disabled: left === 0 })),
      );
    }),
  );
}

let toastTimer;
/** toast shows a short notice at the bottom of the page for 6 s. */
export function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 6000);
}
