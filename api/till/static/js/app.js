// app.js — the till page's wiring: which handler answers which control and
// key, and what the client's events change on screen. The till itself is
// in session.js (signing in), sell.js (ringing up, receipts) and sales.js
// (recent sales, refunds, the queue); writes go through posd-client.js,
// which never loses or doubles them.
import * as V from './views.js';
import { S } from './state.js';
import { initSession, signIn, signOut, startSession, onPairSubmit, useToken, pairFromURL, revoked, showSignIn } from './session.js';
import { search, onSearchKey, onResultsKey, setMethod, onAmount, onAmountDone, amountOff, completeSale, newSale, refreshProducts, onSettled } from './sell.js';
import { drawSales, showSales, drawRefundTotal, submitRefund, drawQueue, showQueue, exportParked, setRefundMethod } from './sales.js';
import { initCashier } from './cashier.js';
import { showShift, openShift, setMoveType, recordMove, closeShift } from './shift.js';

const $ = V.$;
const LS = globalThis.localStorage;

/** onClient follows a session's client: connection, queue and answers that arrive later. */
function onClient(c) {
  c.addEventListener('status', (e) => onStatus(e.detail.status));
  c.addEventListener('queue', (e) => {
    S.counts = e.detail;
    V.connection(S.status, S.counts);
    if (document.body.dataset.view === 'queue') drawQueue();
  });
  c.addEventListener('settled', (e) => {
    onSettled(e.detail.entry);
    const v = document.body.dataset.view;
    if (v === 'sales') drawSales();
    if (v === 'queue') drawQueue();
  });
  c.addEventListener('unauthorized', () => revoked(c));
  c.addEventListener('attempt', (e) => {
    if (S.submitting && e.detail.attempt > 1) V.busy($('complete'), true, `No answer yet — trying again (${e.detail.attempt} of 4)…`);
  });
  onStatus(c.status); // the truth from the first frame (offline at open: "Offline — no network")
}

function onStatus(status) {
  const was = S.status;
  S.status = status;
  V.connection(status, S.counts);
  if (S.submitting && status === 'slow') V.busy($('complete'), true, 'Sending sale — slow connection, please wait…');
  if ((status === 'online' || status === 'slow') && was !== 'online' && was !== 'slow') {
    $('toast').hidden = true; // a "posd unreachable" notice is over
    refreshProducts(false);
    if (document.body.dataset.view === 'sales') drawSales();
  }
}

function onKey(ev) {
  const view = document.body.dataset.view;
  if ((ev.key === 'F9' || (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey))) && view === 'sell') {
    ev.preventDefault();
    completeSale();
  } else if (ev.key === 'F2' && view === 'sell') {
    ev.preventDefault();
    $('search').focus();
  } else if (ev.key === 'Escape' && ['receipt', 'sales', 'refund', 'queue', 'shift'].includes(view) && !S.submitting) {
    ev.preventDefault();
    newSale();
  }
}

/**
 * setupHint offers, once and until dismissed, the page that sets a till up
 * for offline use: on plain HTTP (not a secure context) a browser keeps no
 * service worker, so the till cannot open while posd is down.
 */
function setupHint() {
  const KEY = 'posd.setupHintDismissed';
  if (globalThis.isSecureContext !== false || LS.getItem(KEY)) return;
  const hint = $('setup-hint');
  hint.hidden = false;
  const dismiss = () => {
    LS.setItem(KEY, new Date().toISOString());
    hint.hidden = true;
  };
  $('setup-hint-close').addEventListener('click', dismiss);
  $('setup-link').addEventListener('click', () => LS.setItem(KEY, new Date().toISOString()));
}

function wire() {
  initSession({ onClient });
  $('pair-form').addEventListener('submit', onPairSubmit);
  $('use-token').addEventListener('click', useToken);
  $('signin-form').addEventListener('submit', signIn);
  $('search').addEventListener('input', search);
  $('search').addEventListener('keydown', onSearchKey);
  $('results').addEventListener('keydown', onResultsKey);
  for (const m of ['cash', 'card', 'split']) $(`pay-${m}`).addEventListener('click', () => setMethod(m));
  for (const [which, id] of [['cashGiven', 'cash-given'], ['cardAmount', 'card-amount']]) {
    $(id).addEventListener('input', onAmount(which));
    $(id).addEventListener('change', onAmountDone(which));
  }
  // Enter in an amount moves on (and does not press the button it moves
  // to); in a box that holds no amount it says why and stays.
  const next = (which, to) => (e) => {
    if (e.key !== 'Enter' || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    if (amountOff(which)) return onAmountDone(which)();
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
  for (const m of ['cash', 'card']) $(`refund-${m}`).addEventListener('click', () => setRefundMethod(m));
  initCashier(() => newSale());
  $('nav-shift').addEventListener('click', showShift);
  $('shift-open').addEventListener('click', openShift);
  $('move-out').addEventListener('click', () => setMoveType('pay_out'));
  $('move-in').addEventListener('click', () => setMoveType('pay_in'));
  $('move-submit').addEventListener('click', recordMove);
  $('shift-close').addEventListener('click', closeShift);
  document.addEventListener('keydown', onKey);
}

async function main() {
  wire();
  V.connection(navigator.onLine === false ? 'offline' : 'unknown', S.counts);
  setupHint();
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => {});
  if (await pairFromURL()) return;
  if (!S.token || !S.me) {
    if (document.body.dataset.view !== 'signin') showSignIn();
    return;
  }
  await startSession();
}

main();
