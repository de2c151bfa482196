// app.js — the till: sign-in, selling and receipts, and the wiring of the
// page. It keeps what the cashier needs on the device (token, business,
// products, the cart) so that selling goes on while posd cannot be
// reached; writes go through posd-client.js, which never loses or doubles
// them. Recent sales, refunds and the queue view are in sales.js.
import { PosdClient, newKey } from './posd-client.js';
import { Money, parseQty, QTY, lineAmount } from './money.js';
import * as V from './views.js';
import { S, readJSON, writeJSON, tillRef, fmtTime, explain, toast } from './state.js';
import { drawSales, showSales, drawRefundTotal, submitRefund, drawQueue, showQueue, exportParked } from './sales.js';

const $ = V.$;
const LS = globalThis.localStorage;

/* ---------- sign-in and session ---------- */

async function signIn(ev) {
  ev.preventDefault();
  const token = $('token').value.trim();
  V.setError('signin-error', '');
  if (!token) return;
  const btn = $('signin-btn');
  btn.disabled = true;
  try {
    let r;
    try {
      const ctl = new AbortController();
      const t = setTimeout(() => ctl.abort(), 15000);
      r = await fetch('/api/me', { headers: { Authorization: `Bearer ${token}` }, signal: ctl.signal, cache: 'no-store' });
      clearTimeout(t);
    } catch {
      return V.setError('signin-error', 'posd cannot be reached, so the till cannot sign in yet. Check that the back-office PC is on and this till is on the shop network, then try again.');
    }
    if (r.status === 401) return V.setError('signin-error', 'posd does not know this token. Check it, or ask the manager for a new till token.');
    if (r.status === 429) return V.setError('signin-error', 'Too many wrong tokens from this till. Wait a minute, then try again.');
    if (!r.ok) return V.setError('signin-error', `posd could not sign the till in (HTTP ${r.status}). Try again in a moment.`);
    const me = await r.json();
    LS.setItem('posd.token', token);
    writeJSON('posd.me', me);
    LS.removeItem('posd.location');
    Object.assign(S, { token, me, location: null });
    $('token').value = '';
    await startSession();
  } finally {
    btn.disabled = false;
  }
}

async function signOut() {
  if (S.counts.queued > 0 && !confirm(`${S.counts.queued} sale(s) are still waiting to be sent. They stay on this till and are sent after the next sign-in. Sign out?`)) return;
  for (const k of ['posd.token', 'posd.me', 'posd.location']) LS.removeItem(k);
  if (S.client) S.client.close();
  Object.assign(S, { token: null, me: null, location: null, client: null });
  V.show('signin');
  $('token').focus();
}

async function startSession() {
  S.money = new Money(S.me.business.currency);
  $('shop-name').textContent = S.me.business.name;
  if (S.client) S.client.close();
  const c = new PosdClient({ token: S.token, scope: S.me.business.id });
  S.client = c;
  c.addEventListener('status', (e) => onStatus(e.detail.status));
  c.addEventListener('queue', (e) => {
    S.counts = e.detail;
    V.connection(S.status, S.counts);
    if (document.body.dataset.view === 'queue') drawQueue();
  });
  c.addEventListener('settled', (e) => onSettled(e.detail.entry));
  c.addEventListener('unauthorized', () => toast(explain({ code: 'unauthorized' })));
  c.addEventListener('attempt', (e) => {
    if (S.submitting && e.detail.attempt > 1) V.busy($('complete'), true, `No answer yet — trying again (${e.detail.attempt} of 4)…`);
  });
  await c.open();
  const bound = S.me.token.locationId;
  if (bound) S.location = { id: bound, name: (S.location && S.location.id === bound && S.location.name) || '' };
  if (!S.location) return pickLocation();
  enterSell();
  refreshMe();
  resumeIntent();
}

/** refreshMe re-reads the token's business and the location's name when posd answers. */
async function refreshMe() {
  try {
    const me = await S.client.get('/api/me');
    S.me = me;
    writeJSON('posd.me', me);
    S.money = new Money(me.business.currency);
    $('shop-name').textContent = me.business.name;
    if (!S.location.name) {
      const { locations } = await S.client.get('/api/locations');
      const l = locations.find((x) => x.id === S.location.id);
      if (l) {
        S.location.name = l.name;
        writeJSON('posd.location', S.location);
        $('location-name').textContent = `· ${l.name}`;
      }
    }
    refreshProducts(true);
  } catch (e) {
    if (e.code === 'unauthorized') toast(explain(e));
  }
}

async function pickLocation() {
  V.show('location');
  V.setError('location-error', '');
  try {
    const { locations } = await S.client.get('/api/locations');
    $('location-list').replaceChildren(
      ...locations.map((l) =>
        V.el('button', {
          type: 'button', class: 'big choice', onclick: () => {
            S.location = { id: l.id, name: l.name };
            writeJSON('posd.location', S.location);
            enterSell();
            refreshProducts(true);
            resumeIntent();
          },
        }, l.name),
      ),
    );
    const first = $('location-list').querySelector('button');
    if (first) first.focus();
  } catch (e) {
    V.setError('location-error', `${explain(e)} The list of locations comes from posd.`);
  }
}

function enterSell() {
  $('location-name').textContent = S.location.name ? `· ${S.location.name}` : '';
  V.show('sell');
  drawCart();
  search();
  $('search').focus();
}

/* ---------- connection ---------- */

function onStatus(status) {
  S.status = status;
  V.connection(status, S.counts);
  if (status === 'online') {
    $('toast').hidden = true; // a "cannot be reached" notice is over
    refreshProducts(false);
    if (document.body.dataset.view === 'sales') drawSales();
  }
}

async function refreshProducts(force) {
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

function search() {
  S.found = find($('search').value);
  V.results(S.found, S.money, addProduct);
  const q = $('search').value.trim();
  const note = $('search-note');
  note.hidden = S.found.length > 0;
  note.textContent = S.products.length ? `No product matches “${q}”.` : 'No products on this till yet: they load when posd can be reached.';
}

function onSearchKey(ev) {
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

function onResultsKey(ev) {
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

function drawCart() {
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

function setMethod(m) {
  if (S.submitting) return;
  S.cart.method = m;
  if (m !== 'split') S.cart.cardAmount = null;
  S.cart.changed();
  drawCart();
  (m === 'card' ? $('complete') : m === 'split' ? $('card-amount') : $('cash-given')).focus();
}

function onAmount(which) {
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

async function completeSale() {
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
async function resumeIntent() {
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
    if (out.state === 'queued') toast('posd cannot be reached: the sale is kept on this till and sent by itself when posd answers again.');
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
      lines: sale ? sale.items.map((l) => ({ name: l.name, qty: Math.round(l.quantity * 1000), amount: l.lineTotal })) : m.lines,
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

function onSettled(entry) {
  if (!entry) return;
  if (entry.state === 'done' && S.receiptKey === entry.key && document.body.dataset.view === 'receipt') showReceipt(entry);
  const v = document.body.dataset.view;
  if (v === 'sales') drawSales();
  if (v === 'queue') drawQueue();
}

/* ---------- wiring ---------- */

function newSale() {
  S.receiptKey = null;
  enterSell();
}

function onKey(ev) {
  const view = document.body.dataset.view;
  if ((ev.key === 'F9' || (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey))) && view === 'sell') {
    ev.preventDefault();
    completeSale();
  } else if (ev.key === 'F2' && view === 'sell') {
    ev.preventDefault();
    $('search').focus();
  } else if (ev.key === 'Escape' && ['receipt', 'sales', 'refund', 'queue'].includes(view) && !S.submitting) {
    ev.preventDefault();
    newSale();
  }
}

function wire() {
  $('signin-form').addEventListener('submit', signIn);
  $('search').addEventListener('input', search);
  $('search').addEventListener('keydown', onSearchKey);
  $('results').addEventListener('keydown', onResultsKey);
  for (const m of ['cash', 'card', 'split']) $(`pay-${m}`).addEventListener('click', () => setMethod(m));
  $('cash-given').addEventListener('change', onAmount('cashGiven'));
  $('card-amount').addEventListener('change', onAmount('cardAmount'));
  // Enter in an amount moves on (and does not press the button it moves to).
  const next = (which, to) => (e) => {
    if (e.key !== 'Enter' || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    onAmount(which)(e);
    $(to).focus();
  };
  $('cash-given').addEventListener('keydown', next('cashGiven', 'complete'));
  $('card-amount').addEventListener('keydown', next('cardAmount', 'cash-given'));
  $('complete').addEventListener('click', completeSale);
  $('new-sale').addEventListener('click', newSale);
  $('print').addEventListener('click', () => window.print());
  $('nav-sell').addEventListener('click', () => !S.submitting && newSale());
  $('nav-sales').addEventListener('click', showSales);
  $('nav-signout').addEventListener('click', signOut);
  $('queue-btn').addEventListener('click', showQueue);
  $('export-parked').addEventListener('click', exportParked);
  $('refund-lines').addEventListener('input', drawRefundTotal);
  $('refund-restock').addEventListener('change', drawRefundTotal);
  $('refund-submit').addEventListener('click', submitRefund);
  $('refund-cancel').addEventListener('click', showSales);
  document.addEventListener('keydown', onKey);
}

async function main() {
  wire();
  V.connection('unknown', S.counts);
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => {});
  if (!S.token || !S.me) {
    V.show('signin');
    $('token').focus();
    return;
  }
  await startSession();
}

main();
