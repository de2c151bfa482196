// app.js — the office's frame: sign-in, the screen table, navigation and
// the connection indicator. Each screen is one module under screens/ that
// exports render(ctx) and may return a function that stops its timers; a
// new screen is one module and one line in SCREENS.
import { Api, explain } from './api.js';
import { $, el, fill, toast, showScreen } from './views.js';
import { S, saveToken, setMoney } from './state.js';

/** SCREENS is the office, in the order of the navigation. roles limits who sees a screen. */
export const SCREENS = [
  { id: 'today', title: 'Today', module: './screens/today.js' },
  { id: 'tills', title: 'Tills', module: './screens/tills.js' },
  { id: 'products', title: 'Products', module: './screens/products.js' },
  { id: 'stock', title: 'Stock', module: './screens/stock.js' },
  { id: 'purchases', title: 'Purchases & transfers', module: './screens/purchases.js' },
  { id: 'journal', title: 'Journal', module: './screens/journal.js' },
  { id: 'shifts', title: 'Shifts', module: './screens/shifts.js' },
  { id: 'dayclose', title: 'Day close', module: './screens/dayclose.js' },
  { id: 'staff', title: 'Staff', module: './screens/staff.js' },
  { id: 'export', title: 'Export', module: './screens/export.js' },
  { id: 'integrity', title: 'Integrity', module: './screens/integrity.js' },
  { id: 'health', title: 'Backups & health', module: './screens/health.js' },
  { id: 'tokens', title: 'Tokens', module: './screens/tokens.js', roles: ['owner'] },
];

const STATUS_TEXT = { online: 'Connected to posd', offline: 'Offline — no network', unreachable: 'posd unreachable', unknown: 'Checking connection…' };

let stopScreen = null;
let renderSeq = 0;

function visibleScreens() {
  return SCREENS.filter((s) => !s.roles || s.roles.includes(S.role));
}

function showSignIn(text) {
  if (S.api) S.api.close();
  S.api = null;
  document.body.dataset.view = 'signin';
  $('view-signin').hidden = false;
  $('screen').hidden = true;
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('who').textContent = '';
  $('shop-name').textContent = 'posd back office';
  showScreen(null);
  const e = $('signin-error');
  e.textContent = text || '';
  e.hidden = !text;
  $('token').focus();
}

/** signIn checks a token with GET /api/me and opens the office for an owner or manager. */
async function signIn(token) {
  let r;
  try {
    r = await fetch('/api/me', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch {
    return showSignIn('posd cannot be reached. Check that the back-office PC is on and posd is running, then try again.');
  }
  if (r.status === 401) return showSignIn('posd does not know this token. Check it (copy it again, whole), or ask the owner for a new one.');
  if (r.status === 429) return showSignIn('Too many wrong tokens from this computer. Wait a minute, then try again.');
  if (!r.ok) return showSignIn(`posd could not sign you in (HTTP ${r.status}). Try again in a moment.`);
  const me = await r.json();
  if (me.token.role === 'till') {
    return showSignIn('This is a till token: it can sell, not run the back office. Use it on the till page (/till/), and sign in here with the owner token or a manager token.');
  }
  saveToken(token);
  S.me = me;
  S.role = me.token.role;
  setMoney(me.business.currency);
  await startSession();
}

async function startSession() {
  S.api = new Api(S.token, S.me.business.id);
  S.api.addEventListener('status', (e) => setConn(e.detail.status));
  S.api.addEventListener('unauthorized', () => {
    saveToken(null);
    showSignIn('posd no longer accepts this sign-in (the token was revoked). Sign in again with a valid token.');
  });
  await S.api.open();
  document.body.dataset.view = 'office';
  $('view-signin').hidden = true;
  $('screen').hidden = false;
  $('shop-name').textContent = S.me.business.name;
  $('who').textContent = S.role === 'owner' ? 'Owner' : 'Manager';
  $('signout').hidden = false;
  drawNav();
  await loadShared();
  route();
}

/** loadShared reads what every screen names: locations and tills. */
export async function loadShared() {
  try {
    const [locs, tills] = await Promise.all([S.api.get('/api/locations'), S.api.get('/api/tills').catch(() => ({ tills: [] }))]);
    S.locations = locs.locations;
    S.tills = tills.tills;
  } catch (e) {
    toast(explain(e), 'bad');
  }
}

function drawNav() {
  const nav = $('nav');
  nav.hidden = false;
  fill(
    nav,
    visibleScreens().map((s) => el('a', { href: `#/${s.id}`, data: { screen: s.id } }, s.title)),
  );
}

function setConn(status) {
  const c = $('conn');
  c.dataset.status = status;
  c.textContent = STATUS_TEXT[status] || status;
}

/** route renders the screen named by the address (#/products?q=…). */
async function route() {
  if (!S.api) return;
  const [path, query] = (location.hash.replace(/^#\/?/, '') || 'today').split('?');
  const id = path || 'today';
  const def = SCREENS.find((s) => s.id === id) || SCREENS[0];
  for (const a of $('nav').querySelectorAll('a')) a.setAttribute('aria-current', a.dataset.screen === def.id ? 'page' : 'false');
  if (stopScreen) stopScreen();
  stopScreen = null;
  showScreen(def.id);
  const seq = ++renderSeq;
  const root = $('screen');
  root.dataset.screen = def.id;
  document.title = `${def.title} — posd back office`;
  if (def.roles && !def.roles.includes(S.role)) {
    fill(root, el('h1', {}, def.title), el('p', { class: 'msg warn' }, `Only the owner can manage ${def.title.toLowerCase()}. Ask the owner, or sign in with the owner token.`));
    return;
  }
  fill(root, el('p', { class: 'hint' }, 'Loading…'));
  try {
    const mod = await import(def.module);
    if (seq !== renderSeq) return;
    fill(root);
    const stop = await mod.render({ root, params: new URLSearchParams(query || ''), go: (p) => (location.hash = `#/${p}`), refreshShared: loadShared });
    if (seq !== renderSeq) {
      if (typeof stop === 'function') stop();
      return;
    }
    stopScreen = typeof stop === 'function' ? stop : null;
  } catch (e) {
    if (seq !== renderSeq) return;
    fill(root, el('h1', {}, def.title), el('p', { class: 'msg bad' }, explain(e)), el('button', { type: 'button', onclick: route }, 'Try again'));
  }
}

function boot() {
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = $('token').value.trim();
    if (!t) return;
    const b = $('signin-btn');
    b.disabled = true;
    try {
      await signIn(t);
      $('token').value = '';
    } finally {
      b.disabled = false;
    }
  });
  $('signout').addEventListener('click', () => {
    saveToken(null);
    if (stopScreen) stopScreen();
    stopScreen = null;
    showSignIn('');
  });
  window.addEventListener('hashchange', route);
  // posd serve prints the owner's first address with #token=…: sign in
  // with it, and take it out of the address bar and the history at once.
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', `${location.pathname}#/today`);
    return signIn(decodeURIComponent(m[1]));
  }
  if (S.token) return signIn(S.token);
  showSignIn('');
}

boot();
