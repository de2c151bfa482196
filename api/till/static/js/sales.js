// sales.js — looking back: the recent-sales list, refunds of a recent sale,
// and the queue view with the sales posd refused (parked).
import { parseQty, qtyJSON, refundAmounts } from './money.js';
import { newKey } from './posd-client.js';
import * as V from './views.js';
import { S, readJSON, writeJSON } from './state.js';
import { tillRef, fmtTime, explain, keptNotice, notReached } from './words.js';
import { cashierField } from './cashier.js';
import { refundApproval, refreshSettings } from './approval.js';

const $ = V.$;

export async function drawSales() {
  if (!S.client) return;
  const all = await S.client.entries();
  const refs = new Map(all.filter((e) => e.state === 'done' && e.meta && e.meta.kind === 'sale').map((e) => [e.answer.body.id, e.meta.ref]));
  const local = all.filter((e) => e.meta && e.meta.kind === 'sale' && e.state !== 'done').reverse();
  let remote = readJSON('posd.sales') || [];
  const note = $('sales-note');
  note.hidden = true;
  try {
    const q = new URLSearchParams({ order: 'newest', limit: '20', locationId: S.location.id });
    remote = (await S.client.get(`/api/sales?${q}`)).sales;
    writeJSON('posd.sales', remote);
  } catch (e) {
    note.hidden = false;
    note.textContent = `${notReached(S.client.status)}: this is the list as it was last seen. ${e.code === 'unreachable' ? '' : explain(e)}`;
  }
  V.sales(local, remote.map((s) => ({ ...s, ref: refs.get(s.id) })), S.money, fmtTime, openRefund);
}

export async function showSales() {
  if (S.submitting) return;
  V.show('sales');
  await drawSales();
  const first = $('sales-list').querySelector('button');
  if (first) first.focus();
}

export async function openRefund(sale) {
  try {
    sale = await S.client.get(`/api/sales/${encodeURIComponent(sale.id)}`);
  } catch {
    /* refund from the list's copy; posd checks the quantities */
  }
  await refreshSettings();
  S.refundSale = sale;
  S.refundKey = null;
  S.refundMethod = mostlyPaid(sale);
  V.refund(sale, [], S.money);
  drawRefundMethod();
  const settings = (S.me && S.me.business.settings) || {};
  $('refund-approval').hidden = !settings.refundsNeedApproval;
  $('refund-pin').value = '';
  V.setError('refund-error', '');
  $('refund-done').hidden = true;
  $('refund-submit').disabled = false;
  drawRefundTotal();
  V.show('refund');
  const first = $('refund-lines').querySelector('input:not([disabled])');
  if (first) first.focus();
}

/**
 * mostlyPaid is how a sale was mostly paid (cash net of change), where a
 * refund goes back unless the cashier picks otherwise: posd's own default.
 */
function mostlyPaid(sale) {
  const parts = new Map();
  for (const p of sale.payments || []) parts.set(p.method, (parts.get(p.method) || 0) + p.amount);
  if (parts.has('cash')) parts.set('cash', parts.get('cash') - (sale.change || 0));
  let best = 'cash';
  let most = -1;
  for (const [m, v] of parts) {
    if (v > most) [best, most] = [m, v];
  }
  return best === 'card' ? 'card' : 'cash';
}

export function setRefundMethod(m) {
  S.refundMethod = m;
  S.refundKey = null; // another way back is another refund
  drawRefundMethod();
}

function drawRefundMethod() {
  for (const b of [$('refund-cash'), $('refund-card')]) {
    const on = b.dataset.method === S.refundMethod;
    b.classList.toggle('on', on);
    b.setAttribute('aria-checked', String(on));
  }
}

/** refundPlan reads the form: posd's request (one line per product) and the amount to hand back, worked out as posd does. */
function refundPlan() {
  const sale = S.refundSale;
  const want = new Map();
  let bad = false;
  for (const input of $('refund-lines').querySelectorAll('input')) {
    const v = input.value.trim();
    if (v === '' || v === '0') continue;
    const q = parseQty(v);
    if (q === null) {
      bad = true;
      continue;
    }
    const l = sale.items[Number(input.dataset.index)];
    want.set(l.productId, (want.get(l.productId) || 0) + q);
  }
  const { total } = refundAmounts(sale.items, want);
  const items = [...want].map(([productId, q]) => ({ productId, quantity: qtyJSON(q) }));
  return { bad, items, total, body: { items, restock: $('refund-restock').checked, method: S.refundMethod } };
}

export function drawRefundTotal() {
  const p = refundPlan();
  $('refund-total').textContent = S.money.format(p.total);
  S.refundKey = null; // a changed refund is a new intent
}

export async function submitRefund() {
  const btn = $('refund-submit');
  if (btn.classList.contains('busy')) return;
  const plan = refundPlan();
  if (plan.bad) return V.setError('refund-error', 'Type quantities like 1 or 0.25 (at most 3 decimals).');
  if (!plan.items.length) return V.setError('refund-error', 'Type how much of which item comes back.');
  V.setError('refund-error', '');
  btn.disabled = true;
  V.busy(btn, true, 'Sending refund…');
  try {
    if (!S.refundKey) {
      const createdAt = new Date().toISOString();
      const body = { ...plan.body, soldAt: createdAt, ...cashierField() };
      if (!$('refund-approval').hidden) {
        // A manager approves before the refund is stored: the approval is
        // posd's to give, the refund may then wait in the queue.
        const a = await refundApproval($('refund-pin').value.trim());
        $('refund-pin').value = '';
        if (a.error) {
          V.setError('refund-error', a.error);
          btn.disabled = false;
          return;
        }
        body.approvalId = a.approvalId;
      }
      S.refundKey = newKey();
      const sale = S.refundSale;
      await S.client.intent('POST', `/api/sales/${encodeURIComponent(sale.id)}/refund`, body, { kind: 'refund', ref: tillRef(S.refundKey), total: plan.total, sale: sale.invoiceNumber, createdAt }, S.refundKey);
    }
    const out = await S.client.submit(S.refundKey);
    if (out.state === 'parked') {
      S.refundKey = null;
      V.setError('refund-error', explain(out.entry));
      btn.disabled = false;
      return;
    }
    const done = $('refund-done');
    done.hidden = false;
    if (out.state === 'done') {
      const r = out.entry.answer.body;
      done.textContent = `Refund ${r.returnNumber} recorded${r.hash ? ` (check ${V.shortHash(r.hash)})` : ''}. Hand back ${S.money.format(r.total)}.`;
    } else {
      done.textContent = `${keptNotice(S.client.status, `the refund (till ref ${tillRef(S.refundKey)})`)} Hand back ${S.money.format(plan.total)}.`;
    }
    $('refund-cancel').focus();
  } catch (e) {
    V.setError('refund-error', `The till could not store the refund (${e.message}). Try again.`);
    btn.disabled = false;
  } finally {
    V.busy(btn, false, 'Refund');
  }
}

/* ---------- the queue ---------- */

export async function drawQueue() {
  const all = await S.client.entries();
  V.queue(
    all.filter((e) => e.state === 'queued'),
    all.filter((e) => e.state === 'parked'),
    S.money,
    fmtTime,
    explain,
    async (e) => {
      if (!confirm('Dismiss this refused entry? Export it first if the manager still needs it.')) return;
      await S.client.dismiss(e.key);
      drawQueue();
    },
  );
}

export async function showQueue() {
  if (!S.client || S.submitting) return;
  V.show('queue');
  await drawQueue();
}

export async function exportParked() {
  const text = await S.client.exportParked();
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = V.el('a', { href: url, download: `posd-refused-${new Date().toISOString().replace(/[:.]/g, '-')}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
