// state.js — what the office keeps while it runs: the sign-in, the
// business, the locations and the till names it shows everywhere, and the
// formatting every screen shares (money in the shop's currency, times in
// the shop's time zone).
import { Money, parseQty, qtyText, QTY } from '/till/js/money.js';

export { parseQty, qtyText, QTY };

const LS = globalThis.localStorage;
const TOKEN = 'posd.office.token';

export const S = {
  token: LS.getItem(TOKEN),
  me: null,
  api: null,
  money: new Money('EUR'),
  locations: [],
  tills: [],
  role: null,
};

export function saveToken(t) {
  if (t) LS.setItem(TOKEN, t);
  else LS.removeItem(TOKEN);
  S.token = t;
}

export const isOwner = () => S.role === 'owner';

/** zone is the shop's time zone (the business's, not this computer's). */
export const zone = () => (S.me && S.me.business.timezone) || undefined;

function fmt(iso, opts) {
  if (!iso) return '';
  try {
    return new Intl.DateTimeFormat(undefined, { ...opts, timeZone: zone() }).format(new Date(iso));
  } catch {
    return new Date(iso).toLocaleString();
  }
}

/** when shows a time as the shop sees it: "27 Nov 2026, 10:42". */
export const when = (iso) => fmt(iso, { dateStyle: 'medium', timeStyle: 'short' });
/** clock shows only the time of day: "10:42". */
export const clock = (iso) => fmt(iso, { timeStyle: 'short' });
/** since shows a time briefly: the time of day if it is today, else the date and time. */
export const since = (iso) => (iso && fmt(iso, { dateStyle: 'short' }) === fmt(new Date().toISOString(), { dateStyle: 'short' }) ? clock(iso) : when(iso));
/** dayName shows a day: "Friday 27 November". */
export const dayName = (ymd) => {
  try {
    return new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' }).format(new Date(`${ymd}T12:00:00Z`));
  } catch {
    return ymd;
  }
};

/** weekday names a day's weekday: "Friday". */
export const weekday = (ymd) => {
  try {
    return new Intl.DateTimeFormat(undefined, { weekday: 'long', timeZone: 'UTC' }).format(new Date(`${ymd}T12:00:00Z`));
  } catch {
    return ymd;
  }
};

/** every says a Go duration ("24h0m0s") in words: "every 24 h". */
export function every(d) {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d || '');
  if (!m) return d || '';
  const [h, mi] = [Number(m[1] || 0), Number(m[2] || 0)];
  return h && !mi ? `every ${h} h` : `every ${h ? `${h} h ` : ''}${mi} min`;
}

/** today is the shop's current day as YYYY-MM-DD. */
export function today() {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone(), year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date());
  const g = (t) => parts.find((p) => p.type === t).value;
  return `${g('year')}-${g('month')}-${g('day')}`;
}

/** ago says how long ago a time was, in words: "3 min ago". */
export function ago(iso, now = Date.now()) {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86400)} days ago`;
}

/** duration says a span in words: 125 → "2 min 5 s". */
export function duration(seconds) {
  const s = Math.round(Math.abs(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const money = (minor) => S.money.format(minor || 0);

/** qty shows a quantity as posd sends it (a JSON number with ≤3 decimals). */
export const qty = (n) => String(n);

/** rate shows a tax rate (posd sends percent: 20 or 7.7). */
export const rate = (r) => `${r} %`;

/** pct shows a ratio 0..1 as a percentage with one decimal. */
export const pct = (x) => (x === null || x === undefined || Number.isNaN(x) ? '—' : `${(x * 100).toFixed(1)} %`);

/** ordinal writes a place in words: 1 → "1st", 2 → "2nd", 12 → "12th", 23 → "23rd". */
export function ordinal(n) {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${teen ? 'th' : { 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th'}`;
}

/**
 * locationLabel names a location as the owner knows it: by its name. posd
 * lets two locations share a name (a second "Main" after a move); only
 * then does the label add the location's place among those of that name,
 * in the order they were added ("Main (1st)", "Main (2nd)"), which the
 * owner can tell apart. A location has no other words to tell them by (no
 * address), and a piece of its ID means nothing to anyone.
 */
export function locationLabel(l) {
  const same = S.locations.filter((x) => x.name === l.name);
  if (same.length < 2) return l.name;
  // By the time each was added; IDs (time-ordered) break a tie within a millisecond.
  same.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : 1));
  return `${l.name} (${ordinal(same.findIndex((x) => x.id === l.id) + 1)})`;
}

/** locationName names the location of an ID; 'Any location' for none. */
export function locationName(id) {
  if (!id) return 'Any location';
  const l = S.locations.find((x) => x.id === id);
  return l ? locationLabel(l) : 'a removed location';
}

/** knowsLocation reports whether the office's list of locations has id. */
export const knowsLocation = (id) => S.locations.some((l) => l.id === id);

/** tillName names the token that made a document: a till, or the owner's or a manager's own. */
export function tillName(tokenId) {
  if (!tokenId) return '';
  const t = S.tills.find((x) => x.id === tokenId);
  if (t) return t.name;
  if (S.me && S.me.token.id === tokenId) return 'you (back office)';
  return 'another token';
}

export function setMoney(currency) {
  S.money = new Money(currency);
}

/** parseMoney reads "12.50" (or "12,50") into minor units; null if not an amount. */
export const parseMoney = (text) => S.money.parse(text);
export const plainMoney = (minor) => S.money.plain(minor);
