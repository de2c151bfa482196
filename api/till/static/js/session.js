// session.js — signing the till in and out, and the session that follows:
// the client for this token, the business and the till's location.
import { PosdClient } from './posd-client.js';
import { Money } from './money.js';
import * as V from './views.js';
import { S, writeJSON } from './state.js';
import { explain } from './words.js';
import { enterSell, refreshProducts, resumeIntent } from './sell.js';

const $ = V.$;
const LS = globalThis.localStorage;

let hooks = { onClient() {} };

/** initSession takes the wiring: onClient(c) listens to a new session's client. */
export function initSession(h) {
  hooks = { ...hooks, ...h };
}

export async function signIn(ev) {
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

export async function signOut() {
  if (S.counts.queued > 0 && !confirm(`${S.counts.queued} sale(s) are still waiting to be sent. They stay on this till and are sent after the next sign-in. Sign out?`)) return;
  for (const k of ['posd.token', 'posd.me', 'posd.location']) LS.removeItem(k);
  if (S.client) S.client.close();
  Object.assign(S, { token: null, me: null, location: null, client: null });
  V.show('signin');
  $('token').focus();
}

export async function startSession() {
  S.money = new Money(S.me.business.currency);
  $('shop-name').textContent = S.me.business.name;
  if (S.client) S.client.close();
  const c = new PosdClient({ token: S.token, scope: S.me.business.id });
  S.client = c;
  hooks.onClient(c);
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
    if (e.code === 'unauthorized') V.toast(explain(e));
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
