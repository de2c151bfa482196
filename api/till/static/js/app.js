// app.js — the till page's wiring: which handler answers which control and
// key, and what the client's events change on screen. The till itself is
// in session.js (signing in), sell.js (ringing up, receipts) and sales.js
// (recent sales, refunds, the queue); writes go through posd-client.js,
// which never loses or doubles them.
import * as V from './views.js';
import { S } from './state.js';
import { explain } from './words.js';
import { initSession, signIn, signOut, startSession } from './session.js';
import { search, onSearchKey, onResultsKey, setMethod, onAmount, completeSale, newSale, refreshProducts, onSettled } from './sell.js';
import { drawSales, showSales, drawRefundTotal, submitRefund, drawQueue, showQueue, exportParked } from './sales.js';

const $ = V.$;

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
  c.addEventListener('unauthorized', () => V.toast(explain({ code: 'unauthorized' })));
  c.addEventListener('attempt', (e) => {
    if (S.submitting && e.detail.attempt > 1) V.busy($('complete'), true, `No answer yet — trying again (${e.detail.attempt} of 4)…`);
  });
}

function onStatus(status) {
  S.status = status;
  V.connection(status, S.counts);
  if (status === 'online') {
    $('toast').hidden = true; // a "cannot be reached" notice is over
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
  } else if (ev.key === 'Escape' && ['receipt', 'sales', 'refund', 'queue'].includes(view) && !S.submitting) {
    ev.preventDefault();
    newSale();
  }
}

function wire() {
  initSession({ onClient });
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
