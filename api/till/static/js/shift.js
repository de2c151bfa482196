// shift.js — the till's cash drawer: opening a shift with a float, cash
// paid in or out with a reason, and closing with the cash counted coin by
// coin. Every event is an idempotent POST that goes through the client's
// queue like a sale, with the till's time ("at") and the cashier, so a
// shift opened, used and closed while posd is away reaches it whole and in
// order. posd works out the expected cash (float + cash taken − change +
// pay-ins − pay-outs − cash refunds) and the difference; the till shows
// posd's figures when it can reach it, and asks for a manager's PIN when
// the count is off by more than the shop allows.
import { newKey } from './posd-client.js';
import * as V from './views.js';
import { S, writeJSON } from './state.js';
import { cashierField } from './cashier.js';
import { refreshSettings, approval } from './approval.js';
import { explain, fmtTime, keptNotice, differenceWords } from './words.js';

const $ = V.$;
const LS = globalThis.localStorage;

/** DENOMINATIONS are the coins and notes of a currency, in minor units, largest first. */
const DENOMINATIONS = {
  EUR: [50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1],
  USD: [10000, 5000, 2000, 1000, 500, 200, 100, 25, 10, 5, 1],
  GBP: [5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1],
  CHF: [100000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5],
};

function denominations() {
  return DENOMINATIONS[S.money.currency] || DENOMINATIONS.EUR;
}

function keep(shift) {
  S.shift = shift;
  if (shift) writeJSON('posd.shift', shift);
  else LS.removeItem('posd.shift');
}

/** post stores a shift event in the client's queue and sends it: the sale's way. */
async function post(path, body, meta) {
  const key = newKey();
  await S.client.intent('POST', path, { ...body, ...cashierField(), at: new Date().toISOString() }, { kind: 'shift', ...meta, createdAt: new Date().toISOString() }, key);
  return S.client.submit(key);
}

/** pending tells whether shift events of this till still wait to be sent. */
async function pending() {
  const all = await S.client.entries();
  return all.some((e) => e.meta && e.meta.kind === 'shift' && e.state === 'queued');
}

/** showShift opens the shift view, with posd's figures when it answers. */
export async function showShift() {
  if (!S.client || S.submitting) return;
  V.show('shift');
  V.setError('shift-error', '');
  $('shift-done').hidden = true;
  $('approval-part').hidden = true;
  drawCount();
  await Promise.all([refresh(), refreshSettings()]);
}

/** refresh asks posd for the till's open shift, unless the till's own events are still on their way. */
async function refresh() {
  const note = $('shift-note');
  note.hidden = true;
  if (!(await pending())) {
    try {
      const sh = await S.client.get('/api/shifts/current');
      keep({ open: true, id: sh.id, float: sh.float, openedAt: sh.opened.at, cashierId: sh.opened.cashierId, cash: sh.cash, movements: sh.movements });
    } catch (e) {
      if (e.status === 404) keep(null);
      else {
        note.hidden = false;
        note.textContent = `${explain(e)} The figures are as the till last saw them.`;
      }
    }
  } else {
    note.hidden = false;
    note.textContent = keptNotice(S.client.status, 'what was done to this shift');
  }
  draw();
}

function draw() {
  const sh = S.shift;
  const open = !!(sh && sh.open);
  $('shift-none').hidden = open;
  $('shift-live').hidden = !open;
  $('shift-state').textContent = open ? `open since ${fmtTime(sh.openedAt)}` : '';
  if (!open) return;
  const m = S.money;
  const c = sh.cash;
  const rows = c
    ? [['Expected in the drawer', c.expected], ['Float', c.float], ['Cash taken', c.cashSales], ['Change given', -c.change], ['Cash refunds', -c.cashRefunds], ['Paid in', c.payIns], ['Paid out', -c.payOuts]]
    : [['Float', sh.float]];
  $('shift-figures').replaceChildren(...rows.flatMap(([k, v]) => [V.el('dt', {}, k), V.el('dd', { 'data-figure': k }, m.format(v))]));
  $('shift-moves').replaceChildren(
    ...(sh.movements || []).map((x) => V.el('li', {}, V.el('span', {}, `${x.type === 'pay_in' ? 'Paid in' : 'Paid out'}: ${x.reason}`), V.el('span', {}, m.format(x.type === 'pay_in' ? x.amount : -x.amount)))),
  );
  for (const b of [$('move-out'), $('move-in')]) {
    const on = b.dataset.type === S.moveType;
    b.classList.toggle('on', on);
    b.setAttribute('aria-checked', String(on));
  }
}

/** drawCount lays out the count grid for the shop's currency. */
function drawCount() {
  const m = S.money;
  const have = new Map([...$('count-lines').querySelectorAll('input')].map((i) => [i.dataset.value, i.value]));
  $('count-lines').replaceChildren(
    ...denominations().map((v) =>
      V.el(
        'tr',
        { 'data-value': v },
        V.el('td', {}, m.format(v)),
        V.el('td', { class: 'num' }, V.el('input', { class: 'qty-input', inputmode: 'numeric', autocomplete: 'off', 'data-value': v, 'aria-label': `How many of ${m.format(v)}`, value: have.get(String(v)) || '', oninput: drawCounted })),
        V.el('td', { class: 'num amt' }, ''),
      ),
    ),
  );
  drawCounted();
}

/** counted reads the grid: {total, lines, bad}; amounts in integers only. */
function counted() {
  let total = 0;
  let bad = false;
  const lines = [];
  for (const input of $('count-lines').querySelectorAll('input')) {
    const t = input.value.trim();
    const v = Number(input.dataset.value);
    if (t === '') continue;
    if (!/^[0-9]{1,6}$/.test(t)) {
      bad = true;
      V.mark(input, 'whole number');
      continue;
    }
    V.mark(input, null);
    const n = Number(t);
    total += v * n;
    if (n > 0) lines.push({ value: v, count: n });
  }
  return { total, lines, bad };
}

function drawCounted() {
  const m = S.money;
  for (const tr of $('count-lines').querySelectorAll('tr')) {
    const t = tr.querySelector('input').value.trim();
    tr.querySelector('.amt').textContent = /^[0-9]{1,6}$/.test(t) ? m.format(Number(tr.dataset.value) * Number(t)) : '';
  }
  const c = counted();
  const rows = [['Counted', c.total, '']];
  const exp = S.shift && S.shift.cash ? S.shift.cash.expected : null;
  if (exp !== null) {
    const d = c.total - exp;
    rows.push(['Difference', d, d < 0 ? 'short' : '']);
  }
  $('count-sums').replaceChildren(...rows.flatMap(([k, v, cls]) => [V.el('dt', {}, k), V.el('dd', { class: cls, 'data-figure': k }, m.format(v))]));
}

export async function openShift() {
  const btn = $('shift-open');
  if (btn.classList.contains('busy')) return;
  const t = $('shift-float').value.trim();
  const float = t === '' ? 0 : S.money.parse(t);
  if (float === null) return V.setError('shift-error', 'Type the float like 100 or 100.00.');
  V.setError('shift-error', '');
  V.busy(btn, true, 'Opening…');
  try {
    const out = await post('/api/shifts', { float }, { ref: 'open', total: float });
    if (out.state === 'parked') return V.setError('shift-error', explain(out.entry));
    keep({ open: true, float, openedAt: new Date().toISOString(), cashierId: S.cashier ? S.cashier.id : null, movements: [], cash: null });
    $('shift-float').value = '';
    done(out.state === 'done' ? `Shift open with a float of ${S.money.format(float)}.` : keptNotice(S.client.status, 'the opening of the shift'));
    await refresh();
  } finally {
    V.busy(btn, false, 'Open shift');
  }
}

export function setMoveType(type) {
  S.moveType = type;
  draw();
}

export async function recordMove() {
  const btn = $('move-submit');
  if (btn.classList.contains('busy')) return;
  const amount = S.money.parse($('move-amount').value.trim());
  const reason = $('move-reason').value.trim();
  if (amount === null || amount <= 0) return V.setError('shift-error', 'Type the amount like 20 or 20.00.');
  if (!reason) return V.setError('shift-error', 'Say what the cash is for (milk, change from the bank…): the office sees it.');
  V.setError('shift-error', '');
  V.busy(btn, true, 'Recording…');
  try {
    const out = await post('/api/shifts/current/cash-movements', { type: S.moveType, amount, reason }, { ref: S.moveType, total: amount });
    if (out.state === 'parked') return V.setError('shift-error', explain(out.entry));
    const sh = S.shift;
    sh.movements = [...(sh.movements || []), { type: S.moveType, amount, reason }];
    keep(sh);
    $('move-amount').value = '';
    $('move-reason').value = '';
    const words = `${S.moveType === 'pay_in' ? 'Paid in' : 'Paid out'} ${S.money.format(amount)} (${reason}).`;
    done(out.state === 'done' ? words : `${words} ${keptNotice(S.client.status, 'it')}`);
    await refresh();
  } finally {
    V.busy(btn, false, 'Record');
  }
}

/**
 * closeShift sends the count. When posd answers and the difference is over
 * the shop's limit, a manager's PIN is asked first (POST /api/approvals);
 * when posd cannot be reached the close is queued without one, and the
 * office sees it as needing approval.
 */
export async function closeShift() {
  const btn = $('shift-close');
  if (btn.classList.contains('busy')) return;
  const c = counted();
  if (c.bad) return V.setError('shift-error', 'Type how many of each coin and note as a whole number.');
  V.setError('shift-error', '');
  V.busy(btn, true, 'Closing…');
  try {
    let approvalId;
    const limit = S.me.business.settings ? S.me.business.settings.cashDifferenceLimit : null;
    const exp = S.shift && S.shift.cash ? S.shift.cash.expected : null;
    const reachable = S.client.reachable() && !(await pending());
    if (reachable && exp !== null && limit !== null && limit !== undefined && Math.abs(c.total - exp) > limit) {
      const part = $('approval-part');
      const pin = $('manager-pin').value.trim();
      if (part.hidden || !pin) {
        part.hidden = false;
        $('approval-why').textContent = differenceWords(c.total - exp, limit, S.money);
        $('manager-pin').focus();
        return;
      }
      const a = await approval(pin, 'cash_difference');
      $('manager-pin').value = '';
      if (a.error) return V.setError('shift-error', a.error);
      approvalId = a.approvalId;
    }
    const body = { counted: c.total, denominations: c.lines, ...(approvalId ? { approvalId } : {}) };
    const out = await post('/api/shifts/current/close', body, { ref: 'close', total: c.total });
    if (out.state === 'parked') return V.setError('shift-error', explain(out.entry));
    $('approval-part').hidden = true;
    for (const i of $('count-lines').querySelectorAll('input')) i.value = '';
    keep(null);
    if (out.state === 'done') {
      const sh = out.entry.answer.body;
      const d = sh.cash.difference;
      done(`Shift closed. Expected ${S.money.format(sh.cash.expected)}, counted ${S.money.format(sh.cash.counted)}: ${d === 0 ? 'no difference' : `${S.money.format(Math.abs(d))} ${d < 0 ? 'short' : 'over'}`}${sh.closed.approvedBy ? `, approved by ${sh.closed.approvedBy.name}` : ''}.`);
    } else {
      done(`${keptNotice(S.client.status, 'the close of the shift')} posd works out the difference when it arrives${limit !== null && limit !== undefined ? '; a difference over the limit shows in the office as needing a manager' : ''}.`);
    }
    draw();
    drawCounted();
  } finally {
    V.busy(btn, false, 'Close shift');
  }
}

function done(text) {
  const p = $('shift-done');
  p.textContent = text;
  p.hidden = false;
}
