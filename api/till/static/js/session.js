// session.js — signing the till in and out, and the session that follows:
// the client for this token (with the till's health report), the business
// and the till's location. A till signs in with a pairing code from the
// office page (pairing.js) or, as before, with a pasted till token; when
// posd stops accepting the token (the till was removed in the office) it
// returns here with its queue kept.
import { PosdClient, MemoryOutbox } from './posd-client.js';
import { StatusReporter } from './posd-status.js';
import { pair, normalizeCode, codeFromHash, forgetPairing, CODE_LENGTH } from './pairing.js';
import { Money } from './money.js';
import * as V from './views.js';
import { S, writeJSON } from './state.js';
import { explain, REVOKED, queuedNote, STATUS_TEXT } from './words.js';
import { enterSell, refreshProducts, resumeIntent } from './sell.js';
import { loadCashiers, forgetCashier, drawCashier } from './cashier.js';

const $ = V.$;
const LS = globalThis.localStorage;

/** VERSION is the till page's own version, reported to posd; it moves with sw.js's cache name. */
export const VERSION = 'posd-till-v4';

let hooks = { onClient() {} };
let reporter = null;
let watcher = null; // a client without token that only asks /api/health, while no one is signed in

/** initSession takes the wiring: onClient(c) listens to a new session's client. */
export function initSession(h) {
  hooks = { ...hooks, ...h };
}

const READ = { maxRetries: 0, attemptTimeoutMs: 15000 };

/** showSignIn shows the sign-in view, the pairing code first. */
export function showSignIn({ notice = '', queued = 0 } = {}) {
  if (!S.client && !watcher) {
    // The header tells the truth on the sign-in screen too. This client
    // has no token and no queue, and never takes the send lock.
    watcher = new PosdClient({ token: null, outbox: new MemoryOutbox(), locks: null, localStorage: null });
    hooks.onClient(watcher);
    watcher.probe();
  }
  V.show('signin');
  $('signin-form').hidden = true; // the pairing code first; the token stays one tap away
  $('use-token').hidden = false;
  V.setError('signin-notice', notice);
  const q = $('signin-queue');
  q.textContent = queuedNote(queued);
  q.hidden = !queued;
  $('pair-code').focus();
}

/** useToken shows the token form (the way tills signed in before pairing codes). */
export function useToken() {
  $('signin-form').hidden = false;
  $('use-token').hidden = true;
  $('token').focus();
}

/** signedIn keeps a working token and what posd says it is, then starts selling. */
async function signedIn(token, me) {
  LS.setItem('posd.token', token);
  writeJSON('posd.me', me);
  LS.removeItem('posd.location');
  Object.assign(S, { token, me, location: null });
  V.setError('signin-notice', '');
  $('signin-queue').hidden = true;
  await startSession();
}

/** readMe asks posd who a token is: {me} or {error: words for the cashier}. */
async function readMe(token) {
  const r = await new PosdClient({ token }).request('GET', '/api/me', { policy: READ });
  if (r.verdict === 'ok') return { me: r.body };
  if (r.verdict === 'retry') return { error: `${STATUS_TEXT.unreachable}, so the till cannot sign in yet. Check that the back-office PC is on and this till is on the shop network, then try again.` };
  if (r.status === 401) return { error: 'posd does not know this token. Check it, or ask the manager for a new till token.', status: 401 };
  if (r.status === 429) return { error: 'Too many wrong tokens from this till. Wait a minute, then try again.' };
  return { error: `posd could not sign the till in (HTTP ${r.status}). Try again in a moment.` };
}

export async function signIn(ev) {
  ev.preventDefault();
  const token = $('token').value.trim();
  V.setError('signin-error', '');
  if (!token) return;
  const btn = $('signin-btn');
  btn.disabled = true;
  try {
    const { me, error } = await readMe(token);
    if (error) return V.setError('signin-error', error);
    $('token').value = '';
    await signedIn(token, me);
  } finally {
    btn.disabled = false;
  }
}

const PAIR_WORDS = {
  unknown_code: 'This code is unknown, used or expired — ask for a new one on the office page, Tills → Add a till.',
  not_supported: 'This posd does not know pairing codes yet. Use a till token instead (below).',
  unreachable: `${STATUS_TEXT.unreachable}, so the till cannot sign in yet. Check that the back-office PC is on and this till is on the shop network, then try again with the same code.`,
};

let waitTimer = null;

/** rateLimited keeps the button off for the wait posd asked for, and says so. */
function rateLimited(seconds) {
  const btn = $('pair-btn');
  clearInterval(waitTimer);
  let left = seconds;
  const draw = () => {
    V.setError('pair-error', `Too many tries from this till. Wait ${left} s, then try again.`);
    btn.disabled = left > 0;
    if (left <= 0) {
      clearInterval(waitTimer);
      V.setError('pair-error', 'You can try the code again now.');
    }
    left--;
  };
  draw();
  waitTimer = setInterval(draw, 1000);
}

/**
 * signInWithCode pairs the till with a code (typed, or from the page's
 * #pair=CODE): POST /api/pair, then GET /api/me with the token it gives.
 * The code's idempotency key stays stored until the till is signed in, so
 * trying again after a lost answer gets a working token for the same till.
 */
export async function signInWithCode(typed) {
  V.setError('pair-error', '');
  const code = normalizeCode(typed);
  if (!code) {
    return V.setError('pair-error', `A pairing code has ${CODE_LENGTH} letters and digits (no 0, 1, I or O), like K7P2QX. Check it and type it again.`);
  }
  $('pair-code').value = code;
  const btn = $('pair-btn');
  btn.disabled = true;
  V.busy(btn, true, 'Signing in…');
  let waiting = false;
  try {
    const r = await pair(new PosdClient({ token: null }), LS, code);
    if (!r.ok) {
      if (r.reason === 'rate_limited') {
        waiting = true;
        return rateLimited(r.retryAfterS);
      }
      return V.setError('pair-error', PAIR_WORDS[r.reason] || `posd refused the code (${r.message}). Ask for a new one on the office page, Tills → Add a till.`);
    }
    const { me, error } = await readMe(r.token);
    if (error) return V.setError('pair-error', error); // the code's key is kept: trying again gets a working token
    forgetPairing(LS);
    $('pair-code').value = '';
    await signedIn(r.token, me);
  } finally {
    V.busy(btn, false, 'Sign in');
    if (!waiting) btn.disabled = false;
  }
}

export function onPairSubmit(ev) {
  ev.preventDefault();
  return signInWithCode($('pair-code').value);
}

/**
 * pairFromURL takes a code from the page's address (#pair=CODE, the QR
 * code of the office page) and clears it from the address at once, so a
 * reload or a bookmark does not carry it. It resolves to true when it
 * signed the till in with it.
 */
export async function pairFromURL() {
  const code = codeFromHash(location.hash);
  if (code === null) return false;
  history.replaceState(null, '', location.pathname + location.search);
  if (S.token && S.me) {
    V.toast('This till is already signed in. To sign it in again with the new code, sign out first.');
    return false;
  }
  showSignIn();
  $('pair-code').value = code;
  await signInWithCode(code);
  return !!S.token;
}

export async function signOut() {
  if (S.counts.queued > 0 && !confirm(`${S.counts.queued} sale(s) are still waiting to be sent. They stay on this till and are sent after the next sign-in. Sign out?`)) return;
  endSession();
  showSignIn();
}

/** endSession forgets the token and stops the client; the queue stays in the outbox. */
function endSession() {
  for (const k of ['posd.token', 'posd.me', 'posd.location', 'posd.hasCashiers', 'posd.shift']) LS.removeItem(k);
  forgetCashier();
  S.hasCashiers = false;
  S.shift = null;
  if (reporter) reporter.stop();
  reporter = null;
  if (S.client) S.client.close();
  Object.assign(S, { token: null, me: null, location: null, client: null });
  drawCashier();
}

/**
 * revoked answers a 401 with the till's token (the till was removed in the
 * office): back to sign-in with the reason, its queued sales kept on the
 * device (a 401 stops the queue; nothing is parked or dropped) and sent
 * once the till is signed in again.
 */
export async function revoked(c) {
  if (S.client !== c) return;
  let queued = 0;
  try {
    queued = (await c.entries('queued')).length;
  } catch {
    queued = S.counts.queued;
  }
  if (S.client !== c) return;
  endSession();
  S.counts = { ...S.counts, queued };
  V.connection(S.status, S.counts);
  showSignIn({ notice: REVOKED, queued });
}

export async function startSession() {
  S.money = new Money(S.me.business.currency);
  $('shop-name').textContent = S.me.business.name;
  if (reporter) reporter.stop();
  if (S.client) S.client.close();
  if (watcher) watcher.close();
  watcher = null;
  const c = new PosdClient({ token: S.token, scope: S.me.business.id, policy: { queuedAfterAttempts: 2 }, countersKey: `posd.counters.${S.me.token.id}` });
  S.client = c;
  hooks.onClient(c);
  await c.open();
  reporter = new StatusReporter(c, { version: VERSION }).start();
  const bound = S.me.token.locationId;
  if (bound) S.location = { id: bound, name: (S.location && S.location.id === bound && S.location.name) || '' };
  if (!S.location) return pickLocation();
  enterSell();
  refreshMe();
  resumeIntent();
}

/** afterLocation starts selling once the till knows where it is. */
function afterLocation() {
  enterSell();
  refreshProducts(true);
  loadCashiers();
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
    loadCashiers();
  } catch {
    /* a 401 is answered by revoked(); otherwise the stored copy serves */
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
            afterLocation();
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
