// cashier.js — who is selling. A till token says which device sells; a
// cashier's PIN says who. When the shop has cashiers (the office's Staff
// screen), the till asks for a PIN before the first sale and whenever the
// cashier is switched between sales, and puts the cashier's ID on every
// sale and refund it sends, queued ones too. posd checks PINs (PUT
// /api/tills/current/cashier); the till never holds one. While posd cannot
// be reached the till carries on with the cashier it has, and a till that
// has none may sell without a name until posd answers.
import * as V from './views.js';
import { S, writeJSON } from './state.js';
import { pinWords, STATUS_TEXT } from './words.js';

const $ = V.$;
const LS = globalThis.localStorage;
let after = () => {};

/** initCashier takes what to do once a cashier is signed in (enterSell). */
export function initCashier(onSignedIn) {
  after = onSignedIn;
  const pad = $('keypad');
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'Clear', '0', '⌫'];
  pad.replaceChildren(
    ...keys.map((k) =>
      V.el('button', {
        type: 'button', 'data-key': k, 'aria-label': k === '⌫' ? 'Delete the last digit' : k, onclick: () => {
          const pin = $('pin');
          if (k === 'Clear') pin.value = '';
          else if (k === '⌫') pin.value = pin.value.slice(0, -1);
          else if (pin.value.length < 6) pin.value += k;
          pin.focus();
        },
      }, k),
    ),
  );
  $('pin-form').addEventListener('submit', onPIN);
  $('pin-anonymous').addEventListener('click', () => {
    S.cashier = null;
    after();
  });
  $('cashier-btn').addEventListener('click', switchCashier);
}

/** cashierField is what a sale or refund body carries of its cashier. */
export function cashierField() {
  return S.cashier ? { cashierId: S.cashier.id } : {};
}

/** needsCashier tells whether the till must ask who is selling first. */
export function needsCashier() {
  return S.hasCashiers && !S.cashier;
}

/** drawCashier shows who is selling in the header. */
export function drawCashier() {
  const b = $('cashier-btn');
  b.hidden = !S.hasCashiers || !S.client;
  $('cashier-name').textContent = S.cashier ? `${S.cashier.name} · switch` : 'No cashier · sign in';
}

/** showCashier asks for a PIN. */
export function showCashier(notice = '') {
  V.show('cashier');
  $('pin').value = '';
  V.setError('pin-error', notice);
  $('pin-anonymous').hidden = true;
  drawCashier();
  $('pin').focus();
}

/** switchCashier asks the next cashier's PIN, between sales only. */
export function switchCashier() {
  if (S.submitting) return;
  if (S.cart.lines.length && document.body.dataset.view === 'sell') {
    V.toast('Finish or empty this sale first: a sale belongs to the cashier who started it.');
    return;
  }
  showCashier();
}

/** loadCashiers learns whether the shop has cashiers; the answer is kept for when posd is away. */
export async function loadCashiers() {
  try {
    const { cashiers } = await S.client.get('/api/cashiers');
    S.hasCashiers = cashiers.length > 0;
    LS.setItem('posd.hasCashiers', JSON.stringify(S.hasCashiers));
    if (S.cashier && !cashiers.some((c) => c.id === S.cashier.id)) forgetCashier(); // made inactive in the office
    drawCashier();
    if (needsCashier() && document.body.dataset.view === 'sell' && !S.cart.lines.length) showCashier();
  } catch {
    /* the kept answer serves */
  }
}

export function forgetCashier() {
  S.cashier = null;
  LS.removeItem('posd.cashier');
  drawCashier();
}

async function onPIN(ev) {
  ev.preventDefault();
  const pin = $('pin').value.trim();
  if (!/^[0-9]{4,6}$/.test(pin)) return V.setError('pin-error', 'A PIN is 4 to 6 digits.');
  const btn = $('pin-btn');
  btn.disabled = true;
  V.busy(btn, true, 'Checking…');
  V.setError('pin-error', '');
  try {
    const r = await S.client.request('PUT', '/api/tills/current/cashier', { body: { pin }, policy: { ...S.client.policy, maxRetries: 0, attemptTimeoutMs: 15000 } });
    $('pin').value = '';
    if (r.verdict === 'ok') {
      S.cashier = { id: r.body.id, name: r.body.name, role: r.body.role };
      writeJSON('posd.cashier', S.cashier);
      drawCashier();
      return after();
    }
    if (!r.status) {
      V.setError('pin-error', `${STATUS_TEXT.unreachable}: PINs are checked by posd, so the cashier cannot be switched now.${S.cashier ? ` ${S.cashier.name} stays signed in.` : ''}`);
      $('pin-anonymous').hidden = !!S.cashier;
      return;
    }
    V.setError('pin-error', pinWords(r));
  } finally {
    btn.disabled = false;
    V.busy(btn, false, 'Start selling');
  }
}
